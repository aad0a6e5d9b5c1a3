/*
 * zinc: named POSIX shared-memory regions with cross-process notify/wait.
 *
 * This is the stable C ABI of libzinc_core. The first nine functions are
 * the original zinc ABI (format version 2) and keep its exact signatures and
 * return codes; everything after them is an addition that old callers never
 * see. docs/spec.md is the normative description of every call.
 *
 * Return codes are 0 on success or a negative ZINC_E* code. The ZINC_E*
 * values are zinc's own codes: they equal the negated Linux errno of the same
 * name on every platform. Failures the library did not classify are passed
 * through as the negated OS errno (for example -ENOMEM, -EMFILE).
 *
 * Threads: a handle may be used from several threads at once. Close it exactly
 * once, after every other call on it has returned, with one exception: a
 * thread blocked in zinc_wait is woken by zinc_close on another thread and
 * returns ZINC_ECANCELED. A double close or a call on a closed handle is
 * detected (no-op, 0, NULL or ZINC_EINVAL) until the handle slot is reused.
 *
 * The declarations between the preprocessor lines are plain C that cffi's
 * cdef() parses once lines starting with '#' and the __cplusplus blocks are
 * removed; the Python adapter relies on that, so keep it so.
 */
#ifndef ZINC_H
#define ZINC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "ZINC_REG" read as a big-endian u64; stored little-endian in the header. */
#define ZINC_MAGIC 0x5A494E435F524547ULL
#define ZINC_FORMAT_VERSION 2
#define ZINC_HEADER_SIZE 64
#define ZINC_MAX_NAME_LEN 250
/* zinc_version(): format version in the high 16 bits, ABI revision low. */
#define ZINC_ABI_VERSION 0x00020001u

/* The original header exported these unprefixed; kept for old callers. */
#ifndef ZINC_NO_LEGACY_MACROS
#define MAGIC 6505817187982394695
#define VERSION 2
#endif

typedef void *ZincHandle;

enum zinc_code {
  ZINC_OK = 0,
  ZINC_EPERM = -1,      /* permission denied opening the object (EACCES too) */
  ZINC_ENOENT = -2,     /* no region with that name */
  ZINC_EAGAIN = -11,    /* try_wait: nothing pending; open: creator not done */
  ZINC_EBUSY = -16,     /* the region is in use: creator alive, or mapped */
  ZINC_EEXIST = -17,    /* a region with that name already exists */
  ZINC_EINVAL = -22,    /* bad argument, name, capacity or handle */
  ZINC_ENOSPC = -28,    /* no room in /dev/shm for the region's pages */
  ZINC_EBADMSG = -74,   /* the object is not a valid zinc region */
  ZINC_ETIMEDOUT = -110, /* wait: no notification before the timeout */
  ZINC_ECANCELED = -125 /* wait: the handle was closed by another thread */
};

/* Flags for zinc_create_ex. */
enum zinc_create_flags {
  ZINC_CREATE_DEFAULT = 0,
  /* Map the pages populated so the first write does not fault them in. */
  ZINC_CREATE_PREFAULT = 1,
  /* If the name is taken by a stale region (a valid zinc region whose
   * creator is dead, see zinc_creator_state), unlink it and create anew.
   * Processes that still map the stale region keep their (now nameless)
   * mapping. A live creator's region, or an object that is not a valid
   * region, is never replaced: those still fail with ZINC_EEXIST. */
  ZINC_CREATE_REPLACE_STALE = 2,
  /* Size the object without reserving its pages (ftruncate instead of
   * posix_fallocate): create costs the same for any capacity and a sparse
   * region holds only the pages written. A write to a page that /dev/shm
   * then has no room for raises SIGBUS instead of the create failing with
   * ZINC_ENOSPC. Not with ZINC_CREATE_PREFAULT (ZINC_EINVAL), which
   * allocates every page. */
  ZINC_CREATE_NORESERVE = 4
};

/* Whether a region's creator is still running (zinc_creator_state). */
enum zinc_creator_state {
  ZINC_CREATOR_DEAD = 0,       /* no such process, or it exited (zombie) */
  ZINC_CREATOR_ALIVE = 1,      /* the process that created the region runs */
  ZINC_CREATOR_PID_REUSED = 2, /* the pid now belongs to a later process:
                                  the creator is dead */
  ZINC_CREATOR_UNKNOWN = 3     /* cannot tell (owner_pid <= 0, or /proc
                                  does not show the process) */
};

/* Flags for zinc_remove_stale. */
enum zinc_remove_flags {
  ZINC_REMOVE_DEFAULT = 0,
  /* Also refuse (ZINC_EBUSY) while any process still maps the region. */
  ZINC_REMOVE_IF_UNMAPPED = 1,
  /* Decide only: return what the call would return, remove nothing. */
  ZINC_REMOVE_DRY_RUN = 2,
  /* Also remove an object that is not a valid region: corrupted, unfinished
   * at any age, or not a regular file at all (a FIFO, a symlink...). */
  ZINC_REMOVE_INVALID = 4,
  /* Remove a valid region even while its creator runs or cannot be judged
   * (the creator keeps writing to a region nobody can open any more). */
  ZINC_REMOVE_FORCE = 8
};

/* ---- The original ABI ------------------------------------------------- */

/* Create region `aName` with `aCapacity` usable bytes (a positive multiple of
 * the page size). On success *aOut is the owner handle; on any failure
 * *aOut is NULL. The owner's close unlinks the name. */
int32_t zinc_create(const char *aName, uintptr_t aCapacity, ZincHandle *aOut);

/* Open an existing region. *aOut is NULL on any failure. */
int32_t zinc_open(const char *aName, ZincHandle *aOut);

/* First byte of the data area (page aligned); NULL for a NULL/closed handle.
 * The pointer is valid until the handle is closed. */
uint8_t *zinc_ptr(ZincHandle aH);

/* Usable bytes; 0 for a NULL/closed handle. */
uintptr_t zinc_capacity(ZincHandle aH);

/* Release the handle. The owner also unlinks the name (only if it still
 * names this region). NULL and already-closed handles are ignored. */
void zinc_close(ZincHandle aH);

/* Publish a notification: bump the region's sequence and wake waiters in
 * every process. NULL/closed handles are ignored. */
void zinc_notify(ZincHandle aH);

/* Wait up to aTimeoutMs for a notification this handle has not seen yet.
 * 0: one was consumed; ZINC_ETIMEDOUT; ZINC_EINVAL; ZINC_ECANCELED. */
int32_t zinc_wait(ZincHandle aH, uint32_t aTimeoutMs);

/* Consume a pending notification without blocking.
 * 0: one was consumed; ZINC_EAGAIN: none pending; ZINC_EINVAL. */
int32_t zinc_try_wait(ZincHandle aH);

/* ZINC_ABI_VERSION (0x00020001). */
uint32_t zinc_version(void);

/* ---- Additions -------------------------------------------------------- */

/* Static text for a return code, e.g. "no such region"; never NULL. */
const char *zinc_strerror(int32_t aCode);

/* Detailed message for the most recent call on the calling thread that
 * returned an error code, e.g. "capacity 5000 is not a multiple of the page
 * size 4096"; "" before any failure. Successful calls leave it unchanged.
 * Valid until the next failing zinc call on this thread. */
const char *zinc_last_error_message(void);

/* The page size, which is also the offset of the data area. */
uintptr_t zinc_page_size(void);

/* The region's name as given to create/open (without the "/zinc_" prefix);
 * NULL for a NULL/closed handle. Valid until the handle is closed. */
const char *zinc_name(ZincHandle aH);

/* Like zinc_create, with ZINC_CREATE_* flags. Unknown flags: ZINC_EINVAL. */
int32_t zinc_create_ex(const char *aName, uintptr_t aCapacity, uint32_t aFlags,
                       ZincHandle *aOut);

/* The 64-byte header, decoded (native byte order). */
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

/* Decode and validate a header exactly as zinc_open does, without touching
 * any OS object: `aBytes` holds the first aLen bytes of an object of
 * aObjectSize bytes, for a system with page size aPageSize (0 = this one).
 * 0: valid; ZINC_EAGAIN: the header is not yet published (magic 0);
 * ZINC_EBADMSG: invalid (see zinc_last_error_message); ZINC_EINVAL: NULL or
 * aLen < ZINC_HEADER_SIZE. *aOut (may be NULL) receives the decoded fields
 * whenever aLen >= ZINC_HEADER_SIZE, valid or not. */
int32_t zinc_check_header(const uint8_t *aBytes, uintptr_t aLen,
                          uint64_t aObjectSize, uintptr_t aPageSize,
                          ZincHeaderInfo *aOut);

/* Read and validate region aName's header without mapping it or changing
 * its ref_count (a read-only look, e.g. for tools). Returns what zinc_open
 * would (0, ZINC_ENOENT, ZINC_EAGAIN, ZINC_EBADMSG, ...). *aOut (may be
 * NULL) receives the decoded fields whenever a full header could be read. */
int32_t zinc_inspect(const char *aName, ZincHeaderInfo *aOut);

/* FNV-1a 64 of a name's bytes (the header's name_hash field). */
uint64_t zinc_name_hash(const char *aName);

/* Spin policy. zinc_wait first polls the region for a while, so a peer that
 * answers quickly is seen within a fraction of a microsecond, and only then
 * sleeps in the kernel (which costs tens of microseconds to wake). After the
 * first microsecond the poll also yields the CPU between polls, so a peer
 * that shares the waiter's CPU still gets to run. The poll is bounded by the
 * handle's spin limit and adapts below it: a wait whose notification came
 * within the limit keeps twice that delay as its budget, a wait that timed
 * out or waited longer than the limit halves it (down to 1 us), so an idle
 * waiter stops polling after a few waits.
 * New handles take their limit from the environment variable ZINC_SPIN_US
 * (decimal microseconds, 0..1000000, read once per process; 0 never polls),
 * else ZINC_DEFAULT_SPIN_US. An invalid ZINC_SPIN_US value is ignored. */
#define ZINC_DEFAULT_SPIN_US 50
#define ZINC_MAX_SPIN_US 1000000

/* Sets this handle's spin limit in microseconds (0: sleep at once).
 * 0, or ZINC_EINVAL for a NULL/closed handle or aSpinUs > ZINC_MAX_SPIN_US. */
int32_t zinc_set_spin(ZincHandle aH, uint32_t aSpinUs);

/* This handle's spin limit in microseconds; 0 for a NULL/closed handle. */
uint32_t zinc_get_spin(ZincHandle aH);

/* ---- Stale regions (Linux: these read /proc) -------------------------- */

/* Whether the process that created region aName still runs, judged from
 * the header's owner_pid and created_at so that a recycled pid is not taken
 * for the creator: the process with that pid is the creator only if it
 * started no later than created_at plus 2 s of clock slack (its start time
 * comes from /proc/<pid>/stat and the boot time in /proc/stat). A process
 * that started later is still taken for the creator if it maps the region
 * (which covers a realtime clock stepped forward since the creation).
 * Pids are those of the caller's pid namespace.
 * Returns a ZINC_CREATOR_* value (>= 0), or what zinc_inspect returns for
 * a region that cannot be judged (ZINC_ENOENT, ZINC_EAGAIN, ZINC_EBADMSG,
 * ZINC_EINVAL, ZINC_EPERM...). */
int32_t zinc_creator_state(const char *aName);

/* The processes that currently map the object named aName (valid region or
 * not), found by its device and inode in every /proc/<pid>/maps this process
 * may read (all of the same user's processes, or all processes as root).
 * Writes up to aMax pids, in increasing order, to aPids (may be NULL when
 * aMax is 0) and returns how many processes map it (which may exceed aMax),
 * or a negative code (ZINC_ENOENT, ZINC_EINVAL, ZINC_EPERM...). The caller
 * itself counts if it maps the region. */
int32_t zinc_mapped_by(const char *aName, int32_t *aPids, uintptr_t aMax);

/* Unlink region aName if it is stale: a valid region whose creator is dead
 * (ZINC_CREATOR_DEAD or ZINC_CREATOR_PID_REUSED), or an unfinished object
 * (empty, header unpublished: what a creator killed mid-create by an older
 * or plain v2 implementation leaves) unchanged for 10 s that no process maps
 * or holds open; and, with ZINC_REMOVE_IF_UNMAPPED, that no process maps.
 * ZINC_REMOVE_DRY_RUN only decides; ZINC_REMOVE_FORCE and
 * ZINC_REMOVE_INVALID widen what is removed (zinc rm uses both).
 * The unlink is identity-safe: every zinc remover and every owner's close
 * takes an flock of the object it judged and unlinks the name only while
 * it still refers to that object, so a region re-created under the name
 * meanwhile is never removed (docs/spec.md section 4.3 names the residual
 * window: unlinkers outside zinc, which take no lock).
 * 0: removed (or would be); ZINC_EBUSY: not stale (the message says why:
 * creator alive or unknown, mapped or held by some pids, another process is
 * removing it, or the name now refers to a newer object); ZINC_ENOENT: no
 * such region (or it vanished meanwhile); ZINC_EAGAIN / ZINC_EBADMSG: not a
 * valid region, left alone; ZINC_EINVAL: bad name or unknown flags. */
int32_t zinc_remove_stale(const char *aName, uint32_t aFlags);

#ifdef __cplusplus
}
#endif

#endif /* ZINC_H */
