// An implementation of the zinc C ABI loaded with dlopen: the nine original
// functions (required) and the reference's additions (optional, NULL when the
// port does not export them).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "zinc.h"

namespace zinc::conformance {

struct Api {
  // The original ABI.
  decltype(&zinc_create) create = nullptr;
  decltype(&zinc_open) open = nullptr;
  decltype(&zinc_ptr) ptr = nullptr;
  decltype(&zinc_capacity) capacity = nullptr;
  decltype(&zinc_close) close = nullptr;
  decltype(&zinc_notify) notify = nullptr;
  decltype(&zinc_wait) wait = nullptr;
  decltype(&zinc_try_wait) try_wait = nullptr;
  decltype(&zinc_version) version = nullptr;
  // Additions of the reference.
  decltype(&zinc_strerror) strerror = nullptr;
  decltype(&zinc_last_error_message) last_error_message = nullptr;
  decltype(&zinc_page_size) page_size = nullptr;
  decltype(&zinc_name) name = nullptr;
  decltype(&zinc_create_ex) create_ex = nullptr;
  decltype(&zinc_check_header) check_header = nullptr;
  decltype(&zinc_inspect) inspect = nullptr;
  decltype(&zinc_name_hash) name_hash = nullptr;
  decltype(&zinc_creator_state) creator_state = nullptr;
  decltype(&zinc_mapped_by) mapped_by = nullptr;
  decltype(&zinc_remove_stale) remove_stale = nullptr;
  decltype(&zinc_set_spin) set_spin = nullptr;
  decltype(&zinc_get_spin) get_spin = nullptr;
  // Channels (docs/spec.md §10).
  decltype(&zinc_channel_create) channel_create = nullptr;
  decltype(&zinc_channel_create_typed) channel_create_typed = nullptr;
  decltype(&zinc_channel_open_writer) channel_open_writer = nullptr;
  decltype(&zinc_channel_open_reader) channel_open_reader = nullptr;
  decltype(&zinc_channel_acquire) channel_acquire = nullptr;
  decltype(&zinc_channel_commit) channel_commit = nullptr;
  decltype(&zinc_channel_read) channel_read = nullptr;
  decltype(&zinc_channel_release) channel_release = nullptr;
  decltype(&zinc_channel_close) channel_close = nullptr;
  decltype(&zinc_channel_info) channel_info = nullptr;
  decltype(&zinc_check_channel_header) check_channel_header = nullptr;

  // Every zinc_* function name that was resolved.
  std::set<std::string> exported;

  bool has(const std::string& function) const { return exported.count(function) != 0; }
};

struct LoadedLibrary {
  Api api;
  std::vector<std::string> missing_required;  // of the nine
  std::vector<std::string> missing_optional;  // of the additions
};

// dlopen(path, RTLD_NOW | RTLD_LOCAL) and dlsym of every function. Returns
// false with `error` set if the library cannot be loaded at all. The library
// stays loaded for the life of the process.
bool load_library(const std::string& path, LoadedLibrary* out, std::string* error);

// Names of the nine original functions and of the optional additions.
const std::vector<std::string>& required_functions();
const std::vector<std::string>& optional_functions();

// The channel calls every channel check needs (a port that exports channels
// exports these; zinc_channel_create_typed, zinc_channel_info and
// zinc_check_channel_header are asked for by the checks that use them).
const std::vector<std::string>& channel_functions();

}  // namespace zinc::conformance
