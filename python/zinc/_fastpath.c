/* zinc._fastpath: what a channel does per frame, in C.
 *
 * zinc._frames has the same classes in Python and says what they do; this
 * module is the same behaviour without the interpreter in the way: a frame
 * costs its two C calls, one lock and one object. It is optional (import
 * zinc falls back to the Python classes without it, or with
 * ZINC_NO_FASTPATH=1) and never links libzinc_core: bind() hands it the
 * functions of the library that cffi loaded, so ZINC_LIBRARY and the other
 * ways of finding the library keep working.
 *
 * Limited API (abi3, CPython 3.9+). Every field of a Gate and of its frames
 * is read and written with the GIL held; the GIL is let go only around a
 * frame call that may block (a timeout above 0), and the owner's lock
 * (a threading.Lock, shared with the rest of the participant's calls) is
 * held around every frame call, as in zinc._frames. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <structmember.h>

#include "zinc.h"

typedef int32_t (*frame_call)(ZincChannel, uint32_t, ZincChannelFrame *);
typedef int32_t (*plain_call)(ZincChannel);
typedef int32_t (*commit_call)(ZincChannel, uint64_t);

/* The library's functions, from bind(). */
static frame_call read_fn;
static frame_call acquire_fn;
static plain_call release_fn;
static commit_call commit_fn;

/* fork()s since the module was loaded (forked(), from an at-fork hook): a
 * gate made in an earlier generation was inherited, and its frames hold
 * nothing in this process. */
static unsigned long generation;

static PyTypeObject *gate_type;
static PyTypeObject *read_frame_type;
static PyTypeObject *write_frame_type;

static PyObject *s_acquire, *s_release, *s_slot_array, *s_shorter, *s_bad_length,
    *s_release_failed, *s_commit_failed, *s_length, *s_handle, *s_view, *s_setflags;

typedef struct {
  PyObject_HEAD
  ZincChannel handle;    /* NULL once closed */
  PyObject *lock_acquire; /* the owner's lock.acquire and lock.release */
  PyObject *lock_release;
  PyObject *arrays;      /* the owner's dict: slot address -> the slot's array */
  uint64_t frame_bytes;
  unsigned long generation;
  int writer;
  int holding;           /* reader: the library holds a frame for it */
  PyObject *frame;       /* borrowed: the held (reader) or open (writer) frame,
                            NULL once it is gone (its dealloc clears this) */
  ZincChannelFrame native;
} Gate;

typedef struct {
  PyObject_HEAD
  Gate *gate;
  PyObject *owner;       /* the ChannelReader or ChannelWriter */
  PyObject *array;       /* reader: the frame's array; writer: its own view, made when asked */
  PyObject *slot;        /* writer: the slot's array */
  uint64_t sequence;
  int live;              /* reader: held; writer: open */
  PyObject *weak_references;
} Frame;

/* ---- small helpers ------------------------------------------------------ */

static PyObject *closed_error(void) {
  PyErr_SetString(PyExc_ValueError, "channel is closed");
  return NULL;
}

static int take_lock(Gate *g) {
  PyObject *result = PyObject_CallObject(g->lock_acquire, NULL);
  if (result == NULL) return -1;
  Py_DECREF(result);
  return 0;
}

/* Gives the lock back, keeping an exception that is on its way out. */
static void give_lock(Gate *g) {
  PyObject *type, *value, *traceback;
  PyErr_Fetch(&type, &value, &traceback);
  PyObject *result = PyObject_CallObject(g->lock_release, NULL);
  if (result == NULL) {
    PyErr_WriteUnraisable(g->lock_release);
  } else {
    Py_DECREF(result);
  }
  PyErr_Restore(type, value, traceback);
}

/* The gate's handle with its lock taken; NULL (lock not taken, an
 * exception set) once the gate is closed. */
static ZincChannel lock_open_handle(Gate *g) {
  if (g->handle == NULL) return closed_error(), NULL;
  if (take_lock(g) < 0) return NULL;
  if (g->handle == NULL) {
    give_lock(g);
    return closed_error(), NULL;
  }
  return g->handle;
}

/* A read or an acquire into g->native; the GIL is let go only when the call
 * may block. */
static int32_t call_for_frame(Gate *g, frame_call call, ZincChannel handle, uint32_t timeout_ms) {
  if (timeout_ms == 0) return call(handle, 0, &g->native);
  int32_t code;
  Py_BEGIN_ALLOW_THREADS
  code = call(handle, timeout_ms, &g->native);
  Py_END_ALLOW_THREADS
  return code;
}

/* Calls owner.<method>(argument), a method that raises: -1 with its
 * exception set, 0 if it returned (or the frame has no owner any more). */
static int call_owner(PyObject *owner, PyObject *method, PyObject *argument) {
  if (owner == NULL) return 0;
  PyObject *result = PyObject_CallMethodObjArgs(owner, method, argument, NULL);
  if (result == NULL) return -1;
  Py_DECREF(result);
  return 0;
}

static int call_owner_code(PyObject *owner, PyObject *method, int32_t code) {
  PyObject *number = PyLong_FromLong(code);
  if (number == NULL) return -1;
  int status = call_owner(owner, method, number);
  Py_DECREF(number);
  return status;
}

static int make_read_only(PyObject *array) {
  PyObject *result = PyObject_CallMethodObjArgs(array, s_setflags, Py_False, NULL);
  if (result == NULL) return -1;
  Py_DECREF(result);
  return 0;
}

static uint32_t timeout_argument(PyObject *value, int *failed) {
  unsigned long long ms = PyLong_AsUnsignedLongLong(value);
  if (ms == (unsigned long long)-1 && PyErr_Occurred()) {
    *failed = 1;
    return 0;
  }
  if (ms > UINT32_MAX) {
    PyErr_SetString(PyExc_ValueError, "timeout_ms is more than 2**32 - 1");
    *failed = 1;
    return 0;
  }
  return (uint32_t)ms;
}

/* The slot's array for the frame in g->native: the owner's cached one, or
 * owner._slot_array(address, sequence) at the slot's first frame. */
static PyObject *slot_array(Gate *g, PyObject *owner) {
  PyObject *key = PyLong_FromVoidPtr(g->native.data);
  if (key == NULL) return NULL;
  PyObject *array = g->arrays != NULL ? PyDict_GetItemWithError(g->arrays, key) : NULL;
  if (array != NULL) {
    Py_DECREF(key);
    Py_INCREF(array);
    return array;
  }
  if (PyErr_Occurred()) {
    Py_DECREF(key);
    return NULL;
  }
  PyObject *sequence = PyLong_FromUnsignedLongLong(g->native.sequence);
  if (sequence != NULL) {
    array = PyObject_CallMethodObjArgs(owner, s_slot_array, key, sequence, NULL);
    Py_DECREF(sequence);
  }
  Py_DECREF(key);
  return array;
}

static Frame *new_frame(PyTypeObject *type, Gate *g, PyObject *owner, uint64_t sequence) {
  Frame *f = (Frame *)PyType_GenericAlloc(type, 0);
  if (f == NULL) return NULL;
  Py_INCREF(g);
  f->gate = g;
  Py_INCREF(owner);
  f->owner = owner;
  f->sequence = sequence;
  f->live = 1;
  return f;
}

/* ---- frames --------------------------------------------------------------- */

static int frame_traverse(Frame *f, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(f));
  Py_VISIT(f->owner);
  Py_VISIT(f->array);
  Py_VISIT(f->slot);
  return 0;
}

static int frame_clear(Frame *f) {
  Py_CLEAR(f->owner);
  Py_CLEAR(f->array);
  Py_CLEAR(f->slot);
  return 0;
}

static void frame_dealloc(Frame *f) {
  PyTypeObject *type = Py_TYPE(f);
  PyObject_GC_UnTrack(f);
  if (f->weak_references != NULL) PyObject_ClearWeakRefs((PyObject *)f);
  if (f->gate != NULL && f->gate->frame == (PyObject *)f) f->gate->frame = NULL;
  frame_clear(f);
  Py_CLEAR(f->gate);
  freefunc free_slot = (freefunc)PyType_GetSlot(type, Py_tp_free);
  free_slot(f);
  Py_DECREF(type);
}

/* Frames are made by a gate only: one made any other way would have none. */
static PyObject *frame_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  (void)args;
  (void)kwargs;
  return PyErr_Format(PyExc_TypeError, "%s objects come from a channel's recv() or frame()",
                      type == read_frame_type ? "ReadFrame" : "WriteFrame");
}

static PyObject *frame_sequence(Frame *f, void *closure) {
  (void)closure;
  return PyLong_FromUnsignedLongLong(f->sequence);
}

/* ReadFrame.held and WriteFrame.open. */
static PyObject *frame_live(Frame *f, void *closure) {
  (void)closure;
  return PyBool_FromLong(f->live);
}

static PyObject *frame_repr(Frame *f) {
  const int writer = Py_TYPE(f) == write_frame_type;
  const char *state = writer ? (f->live ? "open" : "closed") : (f->live ? "held" : "released");
  return PyUnicode_FromFormat("<zinc.%s sequence=%llu %s>", writer ? "WriteFrame" : "ReadFrame",
                              (unsigned long long)f->sequence, state);
}

static PyObject *frame_enter(PyObject *self, PyObject *unused) {
  (void)unused;
  Py_INCREF(self);
  return self;
}

/* ReadFrame.release() and the end of its with block. */
static int read_frame_release(Frame *f) {
  if (!f->live) return 0;
  f->live = 0;
  Gate *g = f->gate;
  if (g->handle == NULL || g->generation != generation) return 0; /* closing released it; a fork child holds nothing */
  if (take_lock(g) < 0) return -1;
  ZincChannel handle = g->handle;
  if (handle == NULL || !g->holding || g->frame != (PyObject *)f) {
    give_lock(g);
    return 0;
  }
  g->holding = 0;
  g->frame = NULL;
  int32_t code = release_fn(handle);
  give_lock(g);
  return code == 0 ? 0 : call_owner_code(f->owner, s_release_failed, code);
}

static PyObject *read_frame_release_method(PyObject *self, PyObject *unused) {
  (void)unused;
  if (read_frame_release((Frame *)self) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *read_frame_exit(PyObject *self, PyObject *args) {
  (void)args;
  if (read_frame_release((Frame *)self) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *read_frame_array(Frame *f, void *closure) {
  (void)closure;
  if (f->array == NULL) Py_RETURN_NONE;
  Py_INCREF(f->array);
  return f->array;
}


/* Closes an open write frame: its own view of the slot turns read-only. */
static int write_frame_close(Frame *f) {
  f->live = 0;
  return f->array != NULL ? make_read_only(f->array) : 0;
}

/* Commits frame f with `length` bytes: WriteFrame.commit() and the end of
 * its with block. */
static int write_frame_commit(Frame *f, uint64_t length) {
  Gate *g = f->gate;
  if (g->handle == NULL || g->generation != generation) {
    call_owner(f->owner, s_handle, NULL); /* raises: closed, or inherited through fork() */
    return PyErr_Occurred() ? -1 : (closed_error(), -1);
  }
  ZincChannel handle = lock_open_handle(g);
  if (handle == NULL) return -1;
  int32_t code = commit_fn(handle, length);
  if (code == 0) g->frame = NULL; /* the next acquire need not look at this frame */
  give_lock(g);
  if (code != 0) {
    if (call_owner_code(f->owner, s_commit_failed, code) == 0) {
      PyErr_Format(PyExc_OSError, "commit failed with %d", (int)code); /* _commit_failed always raises */
    }
    return -1;
  }
  return write_frame_close(f);
}

static PyObject *write_frame_commit_method(PyObject *self, PyObject *args, PyObject *kwargs) {
  static char *keywords[] = {"nbytes", NULL};
  PyObject *nbytes = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:commit", keywords, &nbytes)) return NULL;
  Frame *f = (Frame *)self;
  if (!f->live) {
    return PyErr_Format(PyExc_ValueError, "frame %llu was already committed or given up",
                        (unsigned long long)f->sequence);
  }
  uint64_t length = f->gate->frame_bytes;
  if (nbytes != Py_None) {
    PyObject *checked = PyObject_CallMethodObjArgs(f->owner, s_length, nbytes, NULL);
    if (checked == NULL) return NULL;
    length = PyLong_AsUnsignedLongLong(checked);
    Py_DECREF(checked);
    if (PyErr_Occurred()) return NULL;
  }
  if (write_frame_commit(f, length) < 0) return NULL;
  return PyLong_FromUnsignedLongLong(f->sequence);
}

static PyObject *write_frame_exit(PyObject *self, PyObject *args) {
  Frame *f = (Frame *)self;
  PyObject *exc_type = Py_None, *exc_value, *traceback;
  if (!PyArg_UnpackTuple(args, "__exit__", 0, 3, &exc_type, &exc_value, &traceback)) return NULL;
  if (!f->live) Py_RETURN_NONE;
  int status = exc_type != Py_None ? write_frame_close(f) : write_frame_commit(f, f->gate->frame_bytes);
  if (status < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *write_frame_array(Frame *f, void *closure) {
  (void)closure;
  if (f->array == NULL) {
    /* A view of its own, made at the first look: read-only once the frame
     * is closed, it stays so when the slot is the writer's again. */
    PyObject *view = PyObject_CallMethodObjArgs(f->slot, s_view, NULL);
    if (view == NULL) return NULL;
    if (!f->live && make_read_only(view) < 0) {
      Py_DECREF(view);
      return NULL;
    }
    f->array = view;
  }
  Py_INCREF(f->array);
  return f->array;
}


/* ---- the gate ------------------------------------------------------------- */

static PyObject *gate_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  static char *keywords[] = {"handle", "lock", "arrays", "frame_bytes", "writer", NULL};
  PyObject *address, *lock, *arrays;
  unsigned long long frame_bytes;
  int writer;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO!Kp:Gate", keywords, &address, &lock,
                                   &PyDict_Type, &arrays, &frame_bytes, &writer)) {
    return NULL;
  }
  if (read_fn == NULL) {
    PyErr_SetString(PyExc_RuntimeError, "zinc._fastpath: bind() was not called");
    return NULL;
  }
  void *handle = PyLong_AsVoidPtr(address);
  if (handle == NULL) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "handle is NULL");
    return NULL;
  }
  Gate *g = (Gate *)PyType_GenericAlloc(type, 0);
  if (g == NULL) return NULL;
  g->handle = (ZincChannel)handle;
  g->lock_acquire = PyObject_GetAttr(lock, s_acquire);
  g->lock_release = PyObject_GetAttr(lock, s_release);
  Py_INCREF(arrays);
  g->arrays = arrays;
  g->frame_bytes = frame_bytes;
  g->generation = generation;
  g->writer = writer;
  if (g->lock_acquire == NULL || g->lock_release == NULL) {
    Py_DECREF(g);
    return NULL;
  }
  return (PyObject *)g;
}

static void gate_dealloc(Gate *g) {
  PyTypeObject *type = Py_TYPE(g);
  Py_CLEAR(g->lock_acquire);
  Py_CLEAR(g->lock_release);
  Py_CLEAR(g->arrays);
  freefunc free_slot = (freefunc)PyType_GetSlot(type, Py_tp_free);
  free_slot(g);
  Py_DECREF(type);
}

/* Reader: the next frame as a ReadFrame, or the library's code (an int)
 * when there is none; see zinc._frames.Gate.read. */
static PyObject *gate_read_for(Gate *g, PyObject *owner, uint32_t timeout_ms) {
  if (g->writer) return PyErr_Format(PyExc_TypeError, "a writer's gate does not read");
  ZincChannel handle = lock_open_handle(g);
  if (handle == NULL) return NULL;
  int32_t code;
  if (g->holding) {
    /* The frame held before: released, unless its ReadFrame is still held. */
    Frame *held = (Frame *)g->frame;
    if (held != NULL && held->live) {
      give_lock(g);
      return PyErr_Format(PyExc_ValueError,
                          "frame %llu is still held: release it (or leave its with block) "
                          "before receiving the next",
                          (unsigned long long)held->sequence);
    }
    g->holding = 0;
    g->frame = NULL;
    code = release_fn(handle);
    if (code != 0) {
      give_lock(g);
      return PyLong_FromLong(code);
    }
  }
  code = call_for_frame(g, read_fn, handle, timeout_ms);
  if (code != 0) {
    give_lock(g);
    return PyLong_FromLong(code);
  }
  g->holding = 1;
  uint64_t length = g->native.length;
  uint64_t sequence = g->native.sequence;
  PyObject *array = slot_array(g, owner);
  if (array != NULL && length != g->frame_bytes) {
    PyObject *count = PyLong_FromUnsignedLongLong(length);
    PyObject *shorter = count ? PyObject_CallMethodObjArgs(owner, s_shorter, array, count, NULL) : NULL;
    Py_DECREF(array);
    array = NULL;
    if (shorter == Py_None) {
      /* A length no frame may have: the frame is released and skipped. */
      Py_DECREF(shorter);
      g->holding = 0;
      release_fn(handle);
      PyObject *sequence_number = PyLong_FromUnsignedLongLong(sequence);
      PyObject *problem = sequence_number
                              ? PyObject_CallMethodObjArgs(owner, s_bad_length, count, sequence_number, NULL)
                              : NULL;
      if (problem != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(problem), problem);
        Py_DECREF(problem);
      }
      Py_XDECREF(sequence_number);
    } else {
      array = shorter;
    }
    Py_XDECREF(count);
  }
  if (array == NULL) {
    give_lock(g);
    return NULL;
  }
  Frame *f = new_frame(read_frame_type, g, owner, sequence);
  if (f == NULL) {
    Py_DECREF(array);
    give_lock(g);
    return NULL;
  }
  f->array = array;
  g->frame = (PyObject *)f;
  give_lock(g);
  return (PyObject *)f;
}

/* Writer: the next slot as a WriteFrame, or the library's code (an int). */
static PyObject *gate_acquire_for(Gate *g, PyObject *owner, uint32_t timeout_ms) {
  if (!g->writer) return PyErr_Format(PyExc_TypeError, "a reader's gate does not acquire");
  ZincChannel handle = lock_open_handle(g);
  if (handle == NULL) return NULL;
  Frame *open = (Frame *)g->frame;
  if (open != NULL && open->live) {
    give_lock(g);
    return PyErr_Format(PyExc_ValueError,
                        "frame %llu is still open: commit it (or leave its with block) before "
                        "taking the next",
                        (unsigned long long)open->sequence);
  }
  g->frame = NULL; /* a frame dropped uncommitted: the next acquire rewrites it */
  int32_t code;
  code = call_for_frame(g, acquire_fn, handle, timeout_ms);
  if (code != 0) {
    give_lock(g);
    return PyLong_FromLong(code);
  }
  PyObject *slot = slot_array(g, owner);
  Frame *f = slot != NULL ? new_frame(write_frame_type, g, owner, g->native.sequence) : NULL;
  if (f == NULL) {
    Py_XDECREF(slot);
    give_lock(g);
    return NULL;
  }
  f->slot = slot;
  g->frame = (PyObject *)f;
  give_lock(g);
  return (PyObject *)f;
}

static PyObject *gate_read(PyObject *self, PyObject *owner) {
  return gate_read_for((Gate *)self, owner, 0);
}

static PyObject *gate_acquire(PyObject *self, PyObject *owner) {
  return gate_acquire_for((Gate *)self, owner, 0);
}

static PyObject *gate_wait(PyObject *self, PyObject *args) {
  PyObject *owner, *timeout;
  if (!PyArg_UnpackTuple(args, "wait", 2, 2, &owner, &timeout)) return NULL;
  int failed = 0;
  uint32_t timeout_ms = timeout_argument(timeout, &failed);
  if (failed) return NULL;
  Gate *g = (Gate *)self;
  return g->writer ? gate_acquire_for(g, owner, timeout_ms) : gate_read_for(g, owner, timeout_ms);
}

static PyObject *gate_close(PyObject *self, PyObject *leave) {
  Gate *g = (Gate *)self;
  int leaving = PyObject_IsTrue(leave);
  if (leaving < 0) return NULL;
  g->handle = NULL;
  Frame *f = (Frame *)g->frame;
  g->frame = NULL;
  g->holding = 0;
  Py_CLEAR(g->arrays);
  if (leaving && f != NULL && f->live) {
    /* The native close frees the reader's entry with its frame; the
     * writer's open frame is given up (the next writer rewrites it). */
    if (g->writer) {
      Py_INCREF(f);
      int status = write_frame_close(f);
      Py_DECREF(f);
      if (status < 0) return NULL;
    } else {
      f->live = 0;
    }
  }
  Py_RETURN_NONE;
}

/* ---- module --------------------------------------------------------------- */

static PyObject *module_bind(PyObject *module, PyObject *args) {
  (void)module;
  PyObject *addresses[4];
  if (!PyArg_UnpackTuple(args, "bind", 4, 4, &addresses[0], &addresses[1], &addresses[2], &addresses[3])) {
    return NULL;
  }
  void *functions[4];
  for (int i = 0; i < 4; ++i) {
    functions[i] = PyLong_AsVoidPtr(addresses[i]);
    if (functions[i] == NULL) {
      if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bind() needs four function addresses");
      return NULL;
    }
  }
  read_fn = (frame_call)functions[0];
  release_fn = (plain_call)functions[1];
  acquire_fn = (frame_call)functions[2];
  commit_fn = (commit_call)functions[3];
  Py_RETURN_NONE;
}

static PyObject *module_forked(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  ++generation;
  Py_RETURN_NONE;
}

static PyMethodDef read_frame_methods[] = {
    {"release", read_frame_release_method, METH_NOARGS,
     "Gives the frame back to the writer; calling it again does nothing.\n"
     "`array` must not be read afterwards: the writer reuses the slot."},
    {"__enter__", frame_enter, METH_NOARGS, NULL},
    {"__exit__", read_frame_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef read_frame_getset[] = {
    {"array", (getter)read_frame_array, NULL, "The frame as a read-only numpy array.", NULL},
    {"sequence", (getter)frame_sequence, NULL, "The frame's number.", NULL},
    {"held", (getter)frame_live, NULL, "True until the frame is released (or its channel closed).",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* Frames can be weakly referenced, as the Python classes can. */
static PyMemberDef frame_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(Frame, weak_references), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot read_frame_slots[] = {
    {Py_tp_doc,
     "A committed frame that a reader holds: frame number `sequence`.\n\n"
     "`array` is a read-only numpy view of it: the channel's dtype and shape\n"
     "(uint8 of the committed length for an untyped channel). While the reader\n"
     "holds it the writer leaves the slot alone; release() gives it back\n"
     "(lossless: the writer may then reuse the slot). Used as a context manager,\n"
     "it is released when the block ends. A reader holds one frame at a time."},
    {Py_tp_new, frame_new},
    {Py_tp_dealloc, frame_dealloc},
    {Py_tp_traverse, frame_traverse},
    {Py_tp_clear, frame_clear},
    {Py_tp_repr, frame_repr},
    {Py_tp_methods, read_frame_methods},
    {Py_tp_getset, read_frame_getset},
    {Py_tp_members, frame_members},
    {0, NULL},
};

static PyMethodDef write_frame_methods[] = {
    {"commit", (PyCFunction)(void (*)(void))write_frame_commit_method, METH_VARARGS | METH_KEYWORDS,
     "commit(nbytes=None): publishes the frame and wakes the readers; returns its sequence.\n\n"
     "A typed frame is always committed whole. For an untyped channel, `nbytes`\n"
     "is how many bytes of the slot the frame holds (default: the whole slot).\n"
     "ValueError if the frame was already committed or given up, or the channel\n"
     "is closed."},
    {"__enter__", frame_enter, METH_NOARGS, NULL},
    {"__exit__", write_frame_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef write_frame_getset[] = {
    {"array", (getter)write_frame_array, NULL,
     "The slot as a numpy array (writable while the frame is open).", NULL},
    {"sequence", (getter)frame_sequence, NULL, "The frame's number.", NULL},
    {"open", (getter)frame_live, NULL, "True until the frame is committed or given up.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot write_frame_slots[] = {
    {Py_tp_doc,
     "The writer's slot for frame number `sequence`, to fill in place.\n\n"
     "`array` is a writable numpy view of the slot: the channel's dtype and\n"
     "shape (uint8 of the slot size for an untyped channel). commit() publishes\n"
     "it to the readers. Used as a context manager, the frame is committed when\n"
     "the block ends normally; when the block raises it is given up instead: no\n"
     "reader ever sees it, and the writer's next frame is the same slot with the\n"
     "same sequence. Once committed or given up, `array` is read-only (the writer\n"
     "reuses the slot)."},
    {Py_tp_new, frame_new},
    {Py_tp_dealloc, frame_dealloc},
    {Py_tp_traverse, frame_traverse},
    {Py_tp_clear, frame_clear},
    {Py_tp_repr, frame_repr},
    {Py_tp_methods, write_frame_methods},
    {Py_tp_getset, write_frame_getset},
    {Py_tp_members, frame_members},
    {0, NULL},
};

static PyMethodDef gate_methods[] = {
    {"read", gate_read, METH_O, "read(owner): the next frame now, or the library's code."},
    {"acquire", gate_acquire, METH_O, "acquire(owner): the next slot now, or the library's code."},
    {"wait", gate_wait, METH_VARARGS,
     "wait(owner, timeout_ms): read() or acquire(), waiting up to timeout_ms."},
    {"close", gate_close, METH_O, "close(leave): no frame call from now on."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot gate_slots[] = {
    {Py_tp_doc, "A participant's frame calls (see zinc._frames.Gate)."},
    {Py_tp_new, gate_new},
    {Py_tp_dealloc, gate_dealloc},
    {Py_tp_methods, gate_methods},
    {0, NULL},
};

static PyType_Spec read_frame_spec = {"zinc.ReadFrame", sizeof(Frame), 0,
                                      Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, read_frame_slots};
static PyType_Spec write_frame_spec = {"zinc.WriteFrame", sizeof(Frame), 0,
                                       Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, write_frame_slots};
static PyType_Spec gate_spec = {"zinc._fastpath.Gate", sizeof(Gate), 0, Py_TPFLAGS_DEFAULT, gate_slots};

static PyMethodDef module_methods[] = {
    {"bind", module_bind, METH_VARARGS,
     "bind(read, release, acquire, commit): the library's frame functions, by address."},
    {"forked", module_forked, METH_NOARGS, "Called in a fork() child: every gate is inherited."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "zinc._fastpath", "The per-frame calls of zinc channels, in C.", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

static int intern(PyObject **slot, const char *text) {
  *slot = PyUnicode_InternFromString(text);
  return *slot == NULL ? -1 : 0;
}

PyMODINIT_FUNC PyInit__fastpath(void) {
  if (intern(&s_acquire, "acquire") < 0 || intern(&s_release, "release") < 0 ||
      intern(&s_slot_array, "_slot_array") < 0 || intern(&s_shorter, "_shorter") < 0 ||
      intern(&s_bad_length, "_bad_length") < 0 || intern(&s_release_failed, "_release_failed") < 0 ||
      intern(&s_commit_failed, "_commit_failed") < 0 || intern(&s_length, "_length") < 0 ||
      intern(&s_handle, "_handle") < 0 || intern(&s_view, "view") < 0 ||
      intern(&s_setflags, "setflags") < 0) {
    return NULL;
  }
  PyObject *module = PyModule_Create(&module_def);
  if (module == NULL) return NULL;
  gate_type = (PyTypeObject *)PyType_FromSpec(&gate_spec);
  read_frame_type = (PyTypeObject *)PyType_FromSpec(&read_frame_spec);
  write_frame_type = (PyTypeObject *)PyType_FromSpec(&write_frame_spec);
  if (gate_type == NULL || read_frame_type == NULL || write_frame_type == NULL ||
      PyModule_AddObject(module, "Gate", (PyObject *)gate_type) < 0 ||
      PyModule_AddObject(module, "ReadFrame", (PyObject *)read_frame_type) < 0 ||
      PyModule_AddObject(module, "WriteFrame", (PyObject *)write_frame_type) < 0) {
    Py_DECREF(module);
    return NULL;
  }
  /* The module keeps its own references (PyModule_AddObject took one each). */
  Py_INCREF(gate_type);
  Py_INCREF(read_frame_type);
  Py_INCREF(write_frame_type);
  return module;
}
