/*
 * zinc._fastpath: a stand-in for the optional accelerator, so that its build
 * and packaging (python/CMakeLists.txt, scripts/wheel) can be wired and
 * tested before the real module lands. It is what the real one must also be:
 * plain C11 on the limited API (Py_LIMITED_API, set by python/CMakeLists.txt,
 * makes it one abi3 module for every CPython 3.9+), including the core's
 * public header, and linking neither libpython nor libzinc_core.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "zinc.h"

#ifndef Py_LIMITED_API
#error "zinc._fastpath is built on the limited API: python/CMakeLists.txt defines Py_LIMITED_API"
#endif

/* Proves that the core's header is on the include path, and pins the layout
 * the accelerator will read frames through. */
_Static_assert(sizeof(ZincChannelFrame) == 24, "ZincChannelFrame is a pointer and two u64");

static PyObject* fastpath_ping(PyObject* module, PyObject* unused) {
  (void)module;
  (void)unused;
  return PyLong_FromLong(1);
}

static PyMethodDef fastpath_methods[] = {
    {"ping", fastpath_ping, METH_NOARGS, "ping() -> 1: the extension is loaded."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fastpath_module = {
    PyModuleDef_HEAD_INIT,
    "zinc._fastpath",
    "A stand-in for zinc's optional C accelerator.",
    0,
    fastpath_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__fastpath(void) {
  PyObject* module = PyModule_Create(&fastpath_module);
  if (module == NULL) return NULL;
  if (PyModule_AddIntConstant(module, "ABI", 1) < 0) {
    Py_DECREF(module);
    return NULL;
  }
  return module;
}
