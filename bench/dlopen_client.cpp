// A client library for bench/micro.cpp: it loads libzinc_core.so itself with
// dlopen and calls it only through the function pointers dlsym gave it, as a
// language binding (cffi, JNI, a plugin) does. It is not linked against
// zinc_core; zinc.h is included for the types alone.
#include "dlopen_client.hpp"

#include <dlfcn.h>

namespace {

struct Calls {
  decltype(&zinc_create) create = nullptr;
  decltype(&zinc_page_size) page_size = nullptr;
  decltype(&zinc_notify) notify = nullptr;
  decltype(&zinc_close) close = nullptr;
};

Calls calls;

template <typename Function>
bool resolve(void* library, const char* symbol, Function* out) {
  *out = reinterpret_cast<Function>(dlsym(library, symbol));
  return *out != nullptr;
}

}  // namespace

int zinc_dl_client_load(const char* path) {
  void* library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) return -1;
  Calls loaded;
  if (!resolve(library, "zinc_create", &loaded.create) ||
      !resolve(library, "zinc_page_size", &loaded.page_size) ||
      !resolve(library, "zinc_notify", &loaded.notify) ||
      !resolve(library, "zinc_close", &loaded.close)) {
    return -1;
  }
  calls = loaded;  // the library stays loaded for the life of the process
  return 0;
}

int32_t zinc_dl_client_create(const char* name, ZincHandle* out) {
  return calls.create(name, calls.page_size(), out);
}

void zinc_dl_client_notify(ZincHandle handle, uint64_t count) {
  const auto notify = calls.notify;
  for (uint64_t i = 0; i < count; ++i) notify(handle);
}

void zinc_dl_client_close(ZincHandle handle) {
  calls.close(handle);
}
