"""The C declarations of libzinc_core in the form cffi's cdef() reads.

Kept apart from ``_ffi`` because it has no side effects: the package's build
(python/build_cffi.py) imports it to write ``zinc/_zinc_cffi.py``, and
``_ffi`` uses it only when that generated module is absent.
"""

from __future__ import annotations

import re
from typing import List

# Used when zinc.h cannot be found. Kept equal to the header's declarations,
# integer macros and struct layouts (tests/test_ffi_loading.py compares them).
BUILTIN_CDEF = """
#define ZINC_MAGIC 0x5A494E435F524547
#define ZINC_FORMAT_VERSION 2
#define ZINC_HEADER_SIZE 64
#define ZINC_MAX_NAME_LEN 250
#define ZINC_ABI_VERSION 0x00020001

typedef void *ZincHandle;

enum zinc_code {
  ZINC_OK = 0,
  ZINC_EPERM = -1,
  ZINC_ENOENT = -2,
  ZINC_EAGAIN = -11,
  ZINC_EBUSY = -16,
  ZINC_EEXIST = -17,
  ZINC_EINVAL = -22,
  ZINC_ENOSPC = -28,
  ZINC_EPIPE = -32,
  ZINC_ENOMSG = -42,
  ZINC_EBADMSG = -74,
  ZINC_ETIMEDOUT = -110,
  ZINC_ESTALE = -116,
  ZINC_ECANCELED = -125
};

enum zinc_header_flags {
  ZINC_HEADER_FLAG_LOCKS = 1
};

enum zinc_create_flags {
  ZINC_CREATE_DEFAULT = 0,
  ZINC_CREATE_PREFAULT = 1,
  ZINC_CREATE_REPLACE_STALE = 2,
  ZINC_CREATE_NORESERVE = 4
};

enum zinc_creator_state {
  ZINC_CREATOR_DEAD = 0,
  ZINC_CREATOR_ALIVE = 1,
  ZINC_CREATOR_PID_REUSED = 2,
  ZINC_CREATOR_UNKNOWN = 3,
  ZINC_ROLE_FREE = 4
};

enum zinc_remove_flags {
  ZINC_REMOVE_DEFAULT = 0,
  ZINC_REMOVE_IF_UNMAPPED = 1,
  ZINC_REMOVE_DRY_RUN = 2,
  ZINC_REMOVE_INVALID = 4,
  ZINC_REMOVE_FORCE = 8
};

int32_t zinc_create(const char *aName, uintptr_t aCapacity, ZincHandle *aOut);
int32_t zinc_open(const char *aName, ZincHandle *aOut);
uint8_t *zinc_ptr(ZincHandle aH);
uintptr_t zinc_capacity(ZincHandle aH);
void zinc_close(ZincHandle aH);
void zinc_notify(ZincHandle aH);
int32_t zinc_wait(ZincHandle aH, uint32_t aTimeoutMs);
int32_t zinc_try_wait(ZincHandle aH);
uint32_t zinc_version(void);

const char *zinc_strerror(int32_t aCode);
const char *zinc_last_error_message(void);
uintptr_t zinc_page_size(void);
const char *zinc_name(ZincHandle aH);
int32_t zinc_create_ex(const char *aName, uintptr_t aCapacity, uint32_t aFlags,
                       ZincHandle *aOut);

typedef struct ZincHeaderInfo {
  uint64_t magic;
  uint16_t version;
  uint16_t flags;
  uint32_t notify_seq;
  uint64_t capacity;
  uint32_t ref_count;
  int32_t owner_pid;
  uint64_t created_at;
  uint64_t name_hash;
  uint64_t ring_head;
  uint64_t ring_tail;
} ZincHeaderInfo;

int32_t zinc_check_header(const uint8_t *aBytes, uintptr_t aLen,
                          uint64_t aObjectSize, uintptr_t aPageSize,
                          ZincHeaderInfo *aOut);
int32_t zinc_inspect(const char *aName, ZincHeaderInfo *aOut);
uint64_t zinc_name_hash(const char *aName);

#define ZINC_DEFAULT_SPIN_US 50
#define ZINC_MAX_SPIN_US 1000000

int32_t zinc_set_spin(ZincHandle aH, uint32_t aSpinUs);
uint32_t zinc_get_spin(ZincHandle aH);

int32_t zinc_creator_state(const char *aName);
int32_t zinc_mapped_by(const char *aName, int32_t *aPids, uintptr_t aMax);
int32_t zinc_remove_stale(const char *aName, uint32_t aFlags);

#define ZINC_CHANNEL_MAGIC 0x5A494E435F43484E
#define ZINC_CHANNEL_VERSION 2
#define ZINC_CHANNEL_HEADER_SIZE 128
#define ZINC_CHANNEL_ENTRY_SIZE 64
#define ZINC_CHANNEL_SLOT_HEADER_SIZE 64
#define ZINC_CHANNEL_MAX_READERS 64
#define ZINC_CHANNEL_MAX_DIMS 5

typedef void *ZincChannel;

enum zinc_channel_mode {
  ZINC_CHANNEL_LOSSLESS = 1,
  ZINC_CHANNEL_LATEST = 2
};

enum zinc_channel_flags {
  ZINC_CHANNEL_CREATE_READER = 256
};

typedef struct ZincChannelFrame {
  uint8_t *data;
  uint64_t length;
  uint64_t sequence;
} ZincChannelFrame;

typedef struct ZincChannelFrameType {
  char dtype[8];
  uint32_t ndim;
  uint32_t reserved;
  uint64_t shape[ZINC_CHANNEL_MAX_DIMS];
} ZincChannelFrameType;

typedef struct ZincChannelInfo {
  uint64_t magic;
  uint16_t version;
  uint16_t mode;
  uint32_t flags;
  uint32_t slot_count;
  uint32_t max_readers;
  uint64_t slot_size;
  uint64_t write_seq;
  uint32_t latest_slot;
  uint32_t release_seq;
  int32_t writer_pid;
  uint32_t writer_active;
  uint64_t writer_joined_at;
  uint64_t slots_offset;
  uint64_t slot_stride;
  uint64_t required_bytes;
  uint32_t readers;
  uint32_t reserved;
  ZincChannelFrameType frame_type;
} ZincChannelInfo;

int32_t zinc_channel_create(const char *name, uint32_t mode, uint32_t slot_count,
                            uint64_t slot_size, uint32_t max_readers, uint32_t flags,
                            ZincChannel *out);
int32_t zinc_channel_create_typed(const char *name, uint32_t mode, uint32_t slot_count,
                                  const ZincChannelFrameType *type, uint32_t max_readers,
                                  uint32_t flags, ZincChannel *out);
int32_t zinc_channel_open_writer(const char *name, ZincChannel *out);
int32_t zinc_channel_open_reader(const char *name, ZincChannel *out);
int32_t zinc_channel_acquire(ZincChannel channel, uint32_t timeout_ms, ZincChannelFrame *out);
int32_t zinc_channel_commit(ZincChannel channel, uint64_t length);
int32_t zinc_channel_read(ZincChannel channel, uint32_t timeout_ms, ZincChannelFrame *out);
int32_t zinc_channel_release(ZincChannel channel);
void zinc_channel_close(ZincChannel channel);
int32_t zinc_channel_info(ZincChannel channel, ZincChannelInfo *out);
uint8_t *zinc_channel_ptr(ZincChannel channel);
int32_t zinc_channel_role_state(const char *name, int32_t role);
int32_t zinc_check_channel_header(const uint8_t *bytes, uintptr_t len, uint64_t capacity,
                                  ZincChannelInfo *out);

typedef void *ZincWaitSet;
#define ZINC_WAIT_FOREVER 4294967295
enum zinc_wait_set_mechanism {
  ZINC_WAIT_SET_FUTEX_WAITV = 1,
  ZINC_WAIT_SET_POLL = 2
};
int32_t zinc_wait_set_create(ZincWaitSet *out);
int32_t zinc_wait_set_add_region(ZincWaitSet set, ZincHandle region, uint64_t key);
int32_t zinc_wait_set_add_channel(ZincWaitSet set, ZincChannel channel, uint64_t key);
int32_t zinc_wait_set_remove(ZincWaitSet set, void *member);
int32_t zinc_wait_set_wait(ZincWaitSet set, uint32_t timeout_ms, uint64_t *keys,
                           uint32_t max_keys);
int32_t zinc_wait_set_wait_interruptible(ZincWaitSet set, uint32_t timeout_ms, uint64_t *keys,
                                         uint32_t max_keys);
int32_t zinc_wait_set_fd(ZincWaitSet set);
int32_t zinc_wait_set_interrupt(ZincWaitSet set);
int32_t zinc_wait_set_mechanism(ZincWaitSet set);
void zinc_wait_set_close(ZincWaitSet set);
"""

_CONDITIONAL = re.compile(r"#\s*(if|ifdef|ifndef|elif|else|endif)\b\s*(.*)")
# An object-like macro whose value is one integer literal (an optional u/l
# suffix and a trailing comment allowed): cdef() takes these as constants, and
# the header uses ZINC_CHANNEL_MAX_DIMS as an array length.
_INTEGER_DEFINE = re.compile(
    r"#\s*define\s+([A-Za-z_]\w*)\s+(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\s*(/\*.*\*/)?\s*$"
)


def strip_for_cdef(header: str) -> str:
    """The declarations of a C header in the form cdef() accepts.

    Drops every preprocessor line (with its continuation lines) except
    ``#define NAME <integer>``, which cdef() reads as a constant, and whatever
    sits inside ``#ifdef __cplusplus`` blocks (the ``extern "C"`` braces).
    """
    kept: List[str] = []
    # One entry per open conditional: True while its lines are C++-only.
    cplusplus: List[bool] = []
    lines = iter(header.splitlines())
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            continued = stripped.endswith("\\")
            while stripped.endswith("\\"):
                stripped = next(lines, "").strip()
            match = _CONDITIONAL.match(line.strip())
            if match:
                keyword, rest = match.group(1), match.group(2).strip()
                if keyword in ("if", "ifdef", "ifndef"):
                    cplusplus.append(keyword == "ifdef" and rest == "__cplusplus")
                elif keyword in ("else", "elif") and cplusplus:
                    cplusplus[-1] = False
                elif keyword == "endif" and cplusplus:
                    cplusplus.pop()
            define = None if continued else _INTEGER_DEFINE.match(line.strip())
            if define and not any(cplusplus):
                kept.append(f"#define {define.group(1)} {define.group(2)}")
            continue
        if any(cplusplus):
            continue
        kept.append(line)
    return "\n".join(kept)
