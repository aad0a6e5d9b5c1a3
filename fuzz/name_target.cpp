// Fuzz target "name": arbitrary bytes as a region name.
//
// A name is accepted exactly when the documented rule accepts it (1 to 250
// bytes of [A-Za-z0-9_-], docs/spec.md §2), a rejected name fails with
// ZINC_EINVAL before any system call, and no object is ever created, opened
// or removed outside "/zinc_<valid name>". This binary interposes shm_open
// and shm_unlink to see every object name the library asks the OS for.
// Input: byte 0 picks the mode, the rest is the name (the C API sees it up
// to the first NUL):
//   even: name_prefix() + "n" + rest, through create, open, inspect and
//         close (the prefix keeps created names unique and has one length
//         whatever the pid, so an input reaches the 250-byte limit at the
//         same place on every machine; the rest can be anything)
//   odd:  rest alone, through open and inspect; through create only when the
//         rule rejects it, so the fuzzer never creates arbitrary valid names
#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "fuzz_support.hpp"
#include "zinc.h"

namespace {

int shm_calls = 0;

void check_object_name(const char* object) {
  ++shm_calls;
  const std::string_view view(object);
  FUZZ_CHECK(view.substr(0, 6) == "/zinc_" && zinc::fuzz::spec_accepts_name(view.substr(6)),
             "the library asked the OS for object '" + std::string(view) + "'");
}

template <typename F>
F real(const char* symbol) {
  F f = reinterpret_cast<F>(dlsym(RTLD_NEXT, symbol));
  FUZZ_CHECK(f != nullptr, std::string("no real ") + symbol);
  return f;
}

}  // namespace

extern "C" int shm_open(const char* object, int flags, mode_t mode) {
  static const auto next = real<int (*)(const char*, int, mode_t)>("shm_open");
  check_object_name(object);
  return next(object, flags, mode);
}

extern "C" int shm_unlink(const char* object) {
  static const auto next = real<int (*)(const char*)>("shm_unlink");
  check_object_name(object);
  return next(object);
}

namespace {

using zinc::fuzz::spec_accepts_name;

std::string code_text(int32_t code) {
  return std::to_string(code) + " (" + zinc_strerror(code) + ")";
}

void expect_rejected(int32_t rc, ZincHandle h, const char* call) {
  FUZZ_CHECK(rc == ZINC_EINVAL,
             std::string(call) + " of a name the rule rejects returned " + code_text(rc));
  FUZZ_CHECK(h == nullptr, std::string(call) + " failed but left *out set");
  FUZZ_CHECK(std::strlen(zinc_last_error_message()) > 0, "rejected name without a message");
}

// A name with our unique prefix: created, opened, inspected and closed.
void through_create(const std::string& name) {
  const bool valid = spec_accepts_name(name);
  const int calls_before = shm_calls;
  std::unique_ptr<zinc::fuzz::ObjectGuard> guard;
  if (valid) guard = std::make_unique<zinc::fuzz::ObjectGuard>(name);
  ZincHandle owner = reinterpret_cast<ZincHandle>(0x1);
  const int32_t rc = zinc_create(name.c_str(), zinc_page_size(), &owner);
  if (!valid) {
    expect_rejected(rc, owner, "create");
    ZincHandle reader = reinterpret_cast<ZincHandle>(0x1);
    const int32_t opened = zinc_open(name.c_str(), &reader);
    expect_rejected(opened, reader, "open");
    FUZZ_CHECK(zinc_inspect(name.c_str(), nullptr) == ZINC_EINVAL, "inspect of a rejected name");
    FUZZ_CHECK(shm_calls == calls_before, "a rejected name reached the OS");
    return;
  }
  FUZZ_CHECK(rc == ZINC_OK, "create of the valid name '" + name + "' returned " + code_text(rc));
  FUZZ_CHECK(zinc::fuzz::object_exists(name), "created region is not /dev/shm/zinc_<name>");
  FUZZ_CHECK(zinc_name(owner) != nullptr && name == zinc_name(owner), "zinc_name differs");
  ZincHandle reader = nullptr;
  FUZZ_CHECK(zinc_open(name.c_str(), &reader) == ZINC_OK, "open of a just created region");
  ZincHeaderInfo info{};
  FUZZ_CHECK(zinc_inspect(name.c_str(), &info) == ZINC_OK, "inspect of a just created region");
  FUZZ_CHECK(info.name_hash == zinc_name_hash(name.c_str()), "name_hash differs");
  zinc_close(reader);
  zinc_close(owner);
  FUZZ_CHECK(!zinc::fuzz::object_exists(name), "the owner's close left the object");
}

// Any name through open and inspect, which never create anything.
void through_open(const std::string& name) {
  const bool valid = spec_accepts_name(name);
  const int calls_before = shm_calls;
  ZincHandle h = reinterpret_cast<ZincHandle>(0x1);
  const int32_t rc = zinc_open(name.c_str(), &h);
  const int32_t inspected = zinc_inspect(name.c_str(), nullptr);
  if (!valid) {
    expect_rejected(rc, h, "open");
    FUZZ_CHECK(inspected == ZINC_EINVAL,
               "inspect of a rejected name returned " + code_text(inspected));
    ZincHandle created = reinterpret_cast<ZincHandle>(0x1);
    const int32_t made = zinc_create(name.c_str(), zinc_page_size(), &created);
    expect_rejected(made, created, "create");
    FUZZ_CHECK(shm_calls == calls_before, "a rejected name reached the OS");
    return;
  }
  // Valid: usually no such region; some other process's region is possible.
  FUZZ_CHECK(rc != ZINC_EINVAL, "open of the valid name '" + name + "' returned " + code_text(rc));
  FUZZ_CHECK(inspected != ZINC_EINVAL, "inspect of a valid name returned EINVAL");
  if (rc == ZINC_OK) zinc_close(h);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t length) {
  zinc::fuzz::Bytes bytes(input, length);
  const uint8_t mode = bytes.u8();
  const std::string_view rest = bytes.rest();
  const std::string suffix(rest.substr(0, rest.find('\0')));  // what the C API sees
  if (mode % 2 == 0) {
    through_create(zinc::fuzz::name_prefix() + "n" + suffix);
  } else {
    through_open(suffix);
  }
  return 0;
}
