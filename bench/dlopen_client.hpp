// The calls of bench/dlopen_client.cpp, a library that reaches
// libzinc_core.so only through dlopen/dlsym (bench/micro.cpp times them).
#pragma once

#include <stdint.h>

#include "zinc.h"

extern "C" {
// Loads the library at `path` and resolves the calls below; 0, or -1 with
// the reason in dlerror().
int zinc_dl_client_load(const char* path);
// zinc_create(name, one page, out) through the loaded library.
int32_t zinc_dl_client_create(const char* name, ZincHandle* out);
// `count` calls of zinc_notify(handle), each through the function pointer.
void zinc_dl_client_notify(ZincHandle handle, uint64_t count);
void zinc_dl_client_close(ZincHandle handle);
}
