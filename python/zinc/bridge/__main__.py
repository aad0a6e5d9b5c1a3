"""python -m zinc.bridge: the zinc-bridge command (zinc.bridge._cli)."""

import sys

from ._cli import main

sys.exit(main())
