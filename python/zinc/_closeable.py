"""The context-manager protocol of every zinc object that holds a handle
(SharedRegion, Channel, WaitSet): entering checks that the object is still
open, leaving closes it."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Optional, Type, TypeVar

_T = TypeVar("_T", bound="Closeable")


class Closeable:
    def _handle(self) -> Any:
        """The native handle; ValueError once closed."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _T) -> _T:
        self._handle()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()
