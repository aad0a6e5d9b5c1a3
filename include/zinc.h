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
 * cdef() parses once the __cplusplus blocks and the lines starting with '#'
 * are removed, except "#define NAME <integer literal>" lines, which cdef()
 * reads as constants (ZINC_CHANNEL_MAX_DIMS sizes an array below). The
 * Python adapter relies on that, so keep it so.
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
  ZINC_EPIPE = -32,     /* channel read: the writer is gone and the channel
                           was closed or replaced; no frame will come */
  ZINC_ENOMSG = -42,    /* channel open: a valid region that holds no channel */
  ZINC_EBADMSG = -74,   /* the object is not a valid zinc region */
  ZINC_ETIMEDOUT = -110, /* wait: no notification before the timeout */
  ZINC_ESTALE = -116,   /* channel: this handle's role was taken by another
                           participant (judged dead); it writes nothing */
  ZINC_ECANCELED = -125 /* wait: the handle was closed by another thread */
};

/* Bits of the region header's `flags` field (docs/spec.md §3.1). */
enum zinc_header_flags {
  /* The region's handles hold liveness locks (docs/spec.md §4.5): the
   * creator an OFD write lock on object byte 28, every handle an OFD read
   * lock on byte 24, channel roles a write lock on their owner word's first
   * byte. Judges ask the kernel (F_OFD_GETLK) instead of reading pids. */
  ZINC_HEADER_FLAG_LOCKS = 1
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
  ZINC_CREATOR_UNKNOWN = 3,    /* cannot tell (owner_pid <= 0, or /proc
                                  does not show the process) */
  ZINC_ROLE_FREE = 4           /* zinc_channel_role_state: nobody holds it */
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

/* Whether the holder of a role of channel `name` is alive, judged as the
 * library judges it (docs/spec.md §10.3): by its lock where the region has
 * ZINC_HEADER_FLAG_LOCKS, else by the pid rule. `role` is -1 for the writer
 * or a reader entry index. Returns ZINC_CREATOR_ALIVE, ZINC_CREATOR_DEAD,
 * ZINC_CREATOR_PID_REUSED (dead), ZINC_CREATOR_UNKNOWN or ZINC_ROLE_FREE,
 * or a negative code (ZINC_ENOENT, ZINC_EBADMSG, ZINC_ENOMSG, ZINC_EINVAL
 * for a role out of range). Reads only: maps, joins and locks nothing. */
int32_t zinc_channel_role_state(const char *name, int32_t role);

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


/* ---- Channels (docs/spec.md section 10) -------------------------------- */
/* A channel is a convention over a region's data bytes: a channel header,
 * a table of reader entries, then slot_count fixed-size slots. One writer
 * fills a slot in place and commits it; any number of readers (up to the
 * channel's max_readers, at most ZINC_CHANNEL_MAX_READERS) get read-only
 * views of committed frames and release them. No payload byte is copied.
 *   ZINC_CHANNEL_LOSSLESS: a bounded ring; every reader sees every frame
 *     committed after it joined, in order; the writer waits (or gets
 *     ZINC_EAGAIN / ZINC_ETIMEDOUT) while the slowest live reader is
 *     slot_count frames behind.
 *   ZINC_CHANNEL_LATEST: a reader gets the newest committed frame (never a
 *     torn one); the writer never waits. Needs slot_count >= max_readers + 2.
 * Readers and writers killed at any point do not wedge the others: a dead
 * reader's entry is reclaimed (judged like a stale region's creator, from
 * its pid and join time), a frame whose writer died before committing is
 * never shown, and a new writer may take a dead writer's role.
 * Frames are numbered from 0 by the writer ("sequence"). */
#define ZINC_CHANNEL_MAGIC 0x5A494E435F43484EULL /* "ZINC_CHN" */
/* The channel layout's version: 2 has the slot map (lossless frames live in
 * the slot map entry f mod slot_count names); an open refuses any other
 * version with ZINC_EBADMSG. */
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

/* Flags for zinc_channel_create: any ZINC_CREATE_* flag (passed to the
 * region), plus: */
enum zinc_channel_flags {
  /* The creator joins as a reader instead of as the writer (a consumer that
   * owns the channel); a writer then joins with zinc_channel_open_writer. */
  ZINC_CHANNEL_CREATE_READER = 256
};

/* A frame: the writer's slot (from zinc_channel_acquire: data is writable,
 * length is the slot size) or a reader's committed frame (from
 * zinc_channel_read: data must only be read, length is what the writer
 * committed). sequence is the frame number. data stays valid until the
 * frame is committed or released, or the channel closed. */
typedef struct ZincChannelFrame {
  uint8_t *data;
  uint64_t length;
  uint64_t sequence;
} ZincChannelFrame;

/* What a frame holds, fixed at creation (docs/spec.md section 10.2.1): an
 * array of dtype elements in C order of shape[0..ndim-1]. dtype is the
 * element type as numpy's dtype.str spells it ("|u1", "<f4", "<c8"),
 * NUL-padded; an all-zero frame type means untyped bytes. These 56 bytes
 * are the channel header's bytes 72..127, in this order. */
typedef struct ZincChannelFrameType {
  char dtype[8];
  uint32_t ndim;     /* 0..ZINC_CHANNEL_MAX_DIMS (0: one element) */
  uint32_t reserved; /* 0 */
  uint64_t shape[ZINC_CHANNEL_MAX_DIMS]; /* each >= 1 below ndim, 0 from ndim on */
} ZincChannelFrameType;

/* The channel header, decoded, and the geometry derived from it. */
typedef struct ZincChannelInfo {
  uint64_t magic;
  uint16_t version;
  uint16_t mode;
  uint32_t flags;
  uint32_t slot_count;
  uint32_t max_readers;
  uint64_t slot_size;
  uint64_t write_seq;       /* frames committed so far */
  uint32_t latest_slot;     /* latest mode: slot of the newest frame; UINT32_MAX none */
  uint32_t release_seq;
  int32_t writer_pid;       /* 0: no writer holds the role */
  uint32_t writer_active;   /* 1 if the writer role is fully taken */
  uint64_t writer_joined_at;
  uint64_t slots_offset;    /* derived: first slot, from the data area's start */
  uint64_t slot_stride;     /* derived: slot header + payload rounded up to 64 */
  uint64_t required_bytes;  /* derived: data-area bytes the layout needs */
  uint32_t readers;         /* active reader entries (when the table was given) */
  uint32_t reserved;
  ZincChannelFrameType frame_type; /* all zero: untyped */
} ZincChannelInfo;

/* Creates region name sized for the channel (rounded up to whole pages)
 * and lays the channel out in it. The creator owns the name (its close
 * unlinks it) and is the writer, or a reader with ZINC_CHANNEL_CREATE_READER.
 * ZINC_EINVAL: bad mode, slot_count (1..65536; latest: >= max_readers + 2),
 * slot_size (1..2^40), max_readers (1..ZINC_CHANNEL_MAX_READERS) or flags;
 * otherwise what zinc_create_ex returns. *out is NULL on any failure. */
int32_t zinc_channel_create(const char *name, uint32_t mode, uint32_t slot_count,
                            uint64_t slot_size, uint32_t max_readers, uint32_t flags,
                            ZincChannel *out);

/* As zinc_channel_create, for frames of a fixed type: the slot size is
 * the frame's bytes (the element size times the product of the shape),
 * and the type is recorded in the channel header for every reader to see.
 * ZINC_EINVAL: type is NULL, or its dtype is not a canonical numpy type
 * string of kind b, i, u, f or c ("|b1", "|u1", "<i2", "<f8", ...), or
 * ndim, reserved or shape break the rules above. */
int32_t zinc_channel_create_typed(const char *name, uint32_t mode, uint32_t slot_count,
                                  const ZincChannelFrameType *type, uint32_t max_readers,
                                  uint32_t flags, ZincChannel *out);

/* Opens channel name as its writer. ZINC_EBUSY while a live process holds
 * the writer role (one writer per channel); a dead writer's role is taken
 * over, and its unfinished frame is written anew. ZINC_EBADMSG: the region
 * holds no valid channel; ZINC_EAGAIN: not laid out yet; else as zinc_open. */
int32_t zinc_channel_open_writer(const char *name, ZincChannel *out);

/* Opens channel name as a reader. Lossless: the first frame read is the
 * first one committed after the join; latest: the newest frame.
 * ZINC_EBUSY: all max_readers entries are held by live readers. */
int32_t zinc_channel_open_reader(const char *name, ZincChannel *out);

/* Writer: the slot for the next frame, to fill in place. Lossless: waits up
 * to timeout_ms while the ring is full (0: do not wait: ZINC_EAGAIN; else
 * ZINC_ETIMEDOUT). Latest: never waits. Acquiring again before committing
 * returns the same slot. ZINC_EINVAL for a reader or a closed handle;
 * ZINC_ECANCELED if the handle is closed meanwhile; ZINC_EBADMSG if the
 * shared state is corrupt, or write_seq has reached 2^63 - 1, where frame
 * numbers end (docs/spec.md section 10.4; only damage gets there). */
int32_t zinc_channel_acquire(ZincChannel channel, uint32_t timeout_ms, ZincChannelFrame *out);

/* Writer: publishes the acquired slot as a frame of length bytes
 * (<= slot size) and wakes the readers. ZINC_EINVAL: nothing acquired,
 * length too large, not a writer. */
int32_t zinc_channel_commit(ZincChannel channel, uint64_t length);

/* Reader: the next frame (lossless) or the newest frame not read yet
 * (latest), as a read-only view that stays valid until zinc_channel_release.
 * Waits up to timeout_ms (0: ZINC_EAGAIN when none; else ZINC_ETIMEDOUT).
 * ZINC_EINVAL: a writer handle, or a frame is still held;
 * ZINC_ECANCELED; ZINC_EBADMSG: the slot's metadata is corrupt, or
 * write_seq is beyond 2^63 - 1. */
int32_t zinc_channel_read(ZincChannel channel, uint32_t timeout_ms, ZincChannelFrame *out);

/* Reader: gives the held frame back (lossless: it no longer holds the
 * writer back). ZINC_EINVAL if nothing is held. */
int32_t zinc_channel_release(ZincChannel channel);

/* Leaves the channel (frees the reader entry or the writer role) and
 * closes its region handle; the creator's close unlinks the name. NULL and
 * closed handles are ignored. A thread blocked in acquire or read on the
 * handle returns ZINC_ECANCELED. */
void zinc_channel_close(ZincChannel channel);

/* The channel's header now, decoded (and its active readers). */
int32_t zinc_channel_info(ZincChannel channel, ZincChannelInfo *out);

/* The first byte of the channel's data area (where the channel header is):
 * what zinc_ptr gives for a handle of the same region. A frame's data minus
 * this pointer is its offset in the region, the same in every process, so an
 * adapter can view a frame through a mapping of its own. NULL for a NULL or
 * closed handle. Valid until the handle is closed. */
uint8_t *zinc_channel_ptr(ZincChannel channel);

/* Validates a channel exactly as the opens do, without any OS object:
 * bytes holds the first len bytes of a data area of capacity bytes.
 * With len >= required_bytes the reader table and every slot's metadata
 * are checked too. 0: valid; ZINC_EAGAIN: magic 0 (not published);
 * ZINC_EBADMSG: invalid (see zinc_last_error_message); ZINC_EINVAL: NULL,
 * or len < ZINC_CHANNEL_HEADER_SIZE. *out (may be NULL) receives the
 * decoded header whenever len >= ZINC_CHANNEL_HEADER_SIZE. */
int32_t zinc_check_channel_header(const uint8_t *bytes, uintptr_t len, uint64_t capacity,
                                  ZincChannelInfo *out);

/* ---- Wait sets (docs/spec.md section 11) --------------------------------- */
/* A wait set lets one thread wait for any of many regions and channel
 * participants at once, and learn which are ready. Members are region
 * handles and channel handles of this process, each added with a key of the
 * caller's choosing (a u64 the wait reports back). A member is ready when:
 *   a region: its notify_seq moved since the set last reported it (the set
 *     keeps its own cursor, starting at the handle's: a notification the
 *     handle has not consumed is reported at once, as zinc_wait would see
 *     it). The handle's own cursor is not moved: zinc_try_wait consumes.
 *   a channel reader: zinc_channel_read would return at once: a frame is
 *     ready (lossless: one past the reader's cursor; latest: a frame newer
 *     than the last one read), or the read would fail at once (the writer is
 *     gone and the channel closed or replaced: ZINC_EPIPE; the entry was
 *     taken over: ZINC_ESTALE; corrupt slot metadata: ZINC_EBADMSG).
 *     A reader that holds a frame is not ready until it releases it.
 *   a channel writer: zinc_channel_acquire would return at once: a latest
 *     writer always; a lossless writer when the slowest live reader left it
 *     room (or the readers holding it back are dead, which acquire reclaims).
 *   a member whose handle was closed: reported once, then dropped from the
 *     set.
 * Channel members are level-triggered (ready until the frame is read or the
 * slot acquired); region members are edge-triggered by the set's cursor.
 * A killed peer never notifies: a waiting set asks the kernel about its
 * channels' peers about once a second (what read and acquire decide at
 * their timeouts), so a killed writer's end is reported within about 1 s.
 *
 * The set sleeps in futex_waitv (Linux 5.16+) on every member's futex word,
 * registered as a sleeper exactly like the member's own blocking call, so
 * the shared memory sees a waiter like any other (no format change). Past
 * 127 members it sleeps on batches of 126 in threads of a process-wide pool.
 * Where futex_waitv is missing (older kernel, seccomp filter), or with
 * the environment variable ZINC_WAIT_SET set to "poll" when the set is made,
 * it polls: a look at every member, then a sleep of 100 us growing to 5 ms.
 *
 * Threads: any call may come from any thread; several threads may wait on
 * one set (each report goes to one of them). zinc_wait_set_close from
 * another thread wakes a blocked zinc_wait_set_wait, which returns
 * ZINC_ECANCELED. A set inherited through fork() is unusable (ZINC_EINVAL). */

typedef void *ZincWaitSet;

/* zinc_wait_set_wait's timeout_ms for "no limit" (UINT32_MAX). */
#define ZINC_WAIT_FOREVER 4294967295

/* How a set sleeps (zinc_wait_set_mechanism). */
enum zinc_wait_set_mechanism {
  ZINC_WAIT_SET_FUTEX_WAITV = 1,
  ZINC_WAIT_SET_POLL = 2
};

/* A new, empty set. *out is NULL on any failure. */
int32_t zinc_wait_set_create(ZincWaitSet *out);

/* Adds a region handle, or a channel handle (reader or writer), under key.
 * ZINC_EEXIST: the handle is a member already; ZINC_EINVAL: a NULL, closed
 * or foreign set or member handle. */
int32_t zinc_wait_set_add_region(ZincWaitSet set, ZincHandle region, uint64_t key);
int32_t zinc_wait_set_add_channel(ZincWaitSet set, ZincChannel channel, uint64_t key);

/* Removes a member (a region or channel handle). ZINC_ENOENT: not a member. */
int32_t zinc_wait_set_remove(ZincWaitSet set, void *member);

/* Waits up to timeout_ms (ZINC_WAIT_FOREVER: no limit; 0: look only) for
 * members to be ready and writes up to max_keys of their keys to keys.
 * Returns how many (>= 1), ZINC_ETIMEDOUT when none was ready in time,
 * ZINC_ECANCELED when the set was closed meanwhile, ZINC_EAGAIN after a
 * zinc_wait_set_interrupt, ZINC_EINVAL (NULL keys,
 * max_keys 0, bad set). More ready members than max_keys stay ready for the
 * next call; each look starts at a different member, so none starves. */
int32_t zinc_wait_set_wait(ZincWaitSet set, uint32_t timeout_ms, uint64_t *keys,
                           uint32_t max_keys);

/* zinc_wait_set_wait that also returns ZINC_EAGAIN, with no member ready,
 * when a signal handler interrupted its sleep in the calling thread (EINTR:
 * a handler installed without SA_RESTART always does, as Python's are; the
 * kernel may restart the sleep by itself after one with SA_RESTART). For a
 * caller whose handlers only note the signal and act on it outside (Python
 * raising KeyboardInterrupt): it waits in one call instead of slices.
 * zinc_wait_set_wait itself sleeps on across every signal, to its timeout. */
int32_t zinc_wait_set_wait_interruptible(ZincWaitSet set, uint32_t timeout_ms, uint64_t *keys,
                                         uint32_t max_keys);

/* A descriptor (an eventfd owned by the set: do not close it) that becomes
 * readable when a member is ready, for epoll, poll, asyncio's add_reader or
 * libuv. A thread of the set, started by the first call, feeds it; a
 * zinc_wait_set_wait (timeout 0 will do) clears it and lets the thread look
 * again. It may be readable spuriously: the wait then finds nothing. */
int32_t zinc_wait_set_fd(ZincWaitSet set);

/* Makes one zinc_wait_set_wait (one blocked now, else the next) return
 * ZINC_EAGAIN when it finds no member ready, so that a caller keeping
 * state of its own beside the set (deadlines, cancelled waits) looks at it
 * again. 0 or ZINC_EINVAL. */
int32_t zinc_wait_set_interrupt(ZincWaitSet set);

/* ZINC_WAIT_SET_FUTEX_WAITV or ZINC_WAIT_SET_POLL; ZINC_EINVAL. */
int32_t zinc_wait_set_mechanism(ZincWaitSet set);

/* Closes the set (and its fd): a wait in another thread returns
 * ZINC_ECANCELED. Members are not closed. NULL and closed sets are ignored. */
void zinc_wait_set_close(ZincWaitSet set);

#ifdef __cplusplus
}
#endif

#endif /* ZINC_H */
