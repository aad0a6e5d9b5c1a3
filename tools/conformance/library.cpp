#include "library.hpp"

#include <dlfcn.h>

namespace zinc::conformance {
namespace {

// Resolves `name` into `slot` (left NULL when missing) and records it.
template <typename Fn>
void resolve(void* library, const char* name, Fn* slot, Api* api) {
  void* symbol = dlsym(library, name);
  *slot = reinterpret_cast<Fn>(symbol);
  if (symbol != nullptr) api->exported.insert(name);
}

}  // namespace

const std::vector<std::string>& required_functions() {
  static const std::vector<std::string> names = {"zinc_create",   "zinc_open",     "zinc_ptr",
                                                 "zinc_capacity", "zinc_close",    "zinc_notify",
                                                 "zinc_wait",     "zinc_try_wait", "zinc_version"};
  return names;
}

const std::vector<std::string>& optional_functions() {
  static const std::vector<std::string> names = {
      "zinc_strerror",      "zinc_last_error_message", "zinc_page_size",    "zinc_name",
      "zinc_create_ex",     "zinc_check_header",       "zinc_inspect",      "zinc_name_hash",
      "zinc_creator_state", "zinc_mapped_by",          "zinc_remove_stale", "zinc_set_spin",
      "zinc_get_spin"};
  static const std::vector<std::string> with_channels = [] {
    std::vector<std::string> all = names;
    all.insert(all.end(), channel_functions().begin(), channel_functions().end());
    all.insert(all.end(),
               {"zinc_channel_create_typed", "zinc_channel_info", "zinc_check_channel_header"});
    return all;
  }();
  return with_channels;
}

const std::vector<std::string>& channel_functions() {
  static const std::vector<std::string> names = {
      "zinc_channel_create",  "zinc_channel_open_writer", "zinc_channel_open_reader",
      "zinc_channel_acquire", "zinc_channel_commit",      "zinc_channel_read",
      "zinc_channel_release", "zinc_channel_close"};
  return names;
}

bool load_library(const std::string& path, LoadedLibrary* out, std::string* error) {
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* reason = dlerror();
    *error = reason != nullptr ? reason : "dlopen failed";
    return false;
  }
  Api& a = out->api;
  resolve(library, "zinc_create", &a.create, &a);
  resolve(library, "zinc_open", &a.open, &a);
  resolve(library, "zinc_ptr", &a.ptr, &a);
  resolve(library, "zinc_capacity", &a.capacity, &a);
  resolve(library, "zinc_close", &a.close, &a);
  resolve(library, "zinc_notify", &a.notify, &a);
  resolve(library, "zinc_wait", &a.wait, &a);
  resolve(library, "zinc_try_wait", &a.try_wait, &a);
  resolve(library, "zinc_version", &a.version, &a);
  resolve(library, "zinc_strerror", &a.strerror, &a);
  resolve(library, "zinc_last_error_message", &a.last_error_message, &a);
  resolve(library, "zinc_page_size", &a.page_size, &a);
  resolve(library, "zinc_name", &a.name, &a);
  resolve(library, "zinc_create_ex", &a.create_ex, &a);
  resolve(library, "zinc_check_header", &a.check_header, &a);
  resolve(library, "zinc_inspect", &a.inspect, &a);
  resolve(library, "zinc_name_hash", &a.name_hash, &a);
  resolve(library, "zinc_creator_state", &a.creator_state, &a);
  resolve(library, "zinc_mapped_by", &a.mapped_by, &a);
  resolve(library, "zinc_remove_stale", &a.remove_stale, &a);
  resolve(library, "zinc_set_spin", &a.set_spin, &a);
  resolve(library, "zinc_get_spin", &a.get_spin, &a);
  resolve(library, "zinc_channel_create", &a.channel_create, &a);
  resolve(library, "zinc_channel_create_typed", &a.channel_create_typed, &a);
  resolve(library, "zinc_channel_open_writer", &a.channel_open_writer, &a);
  resolve(library, "zinc_channel_open_reader", &a.channel_open_reader, &a);
  resolve(library, "zinc_channel_acquire", &a.channel_acquire, &a);
  resolve(library, "zinc_channel_commit", &a.channel_commit, &a);
  resolve(library, "zinc_channel_read", &a.channel_read, &a);
  resolve(library, "zinc_channel_release", &a.channel_release, &a);
  resolve(library, "zinc_channel_close", &a.channel_close, &a);
  resolve(library, "zinc_channel_info", &a.channel_info, &a);
  resolve(library, "zinc_check_channel_header", &a.check_channel_header, &a);
  for (const std::string& name : required_functions()) {
    if (!a.has(name)) out->missing_required.push_back(name);
  }
  for (const std::string& name : optional_functions()) {
    if (!a.has(name)) out->missing_optional.push_back(name);
  }
  return true;
}

}  // namespace zinc::conformance
