// A scripted zinc user in its own process, for the cross-process tests.
// Reads one command per line on stdin and answers one line on stdout:
//   create NAME CAP | open NAME   -> "rc N"
//   write OFF BYTE                -> "ok"
//   read OFF                      -> "byte N"
//   notify                        -> "ok"
//   wait MS | try_wait            -> "rc N"
//   capacity                      -> "capacity N"
//   close                         -> "ok"
//   spin US                       -> "rc N"      (zinc_set_spin)
//   spin_limit                    -> "spin N"    (zinc_get_spin)
//   plain_open NAME               -> "rc N"      (a plain v2 handle, see plain_v2.hpp)
//   plain_wait MS                 -> "rc N"
//   plain_notify | plain_close    -> "ok"
//   exit                          -> (exits 0)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "plain_v2.hpp"
#include "zinc.h"

int main() {
  ZincHandle handle = nullptr;
  std::unique_ptr<zinc::test::PlainV2Handle> plain;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string op;
    in >> op;
    if (op == "create" || op == "open") {
      std::string name;
      unsigned long long capacity = 0;
      in >> name >> capacity;
      const int32_t rc =
          op == "create" ? zinc_create(name.c_str(), capacity, &handle) : zinc_open(name.c_str(), &handle);
      std::printf("rc %d\n", rc);
    } else if (op == "write") {
      size_t offset = 0;
      unsigned value = 0;
      in >> offset >> value;
      zinc_ptr(handle)[offset] = static_cast<uint8_t>(value);
      std::printf("ok\n");
    } else if (op == "read") {
      size_t offset = 0;
      in >> offset;
      std::printf("byte %u\n", zinc_ptr(handle)[offset]);
    } else if (op == "notify") {
      zinc_notify(handle);
      std::printf("ok\n");
    } else if (op == "wait") {
      unsigned timeout = 0;
      in >> timeout;
      std::printf("rc %d\n", zinc_wait(handle, timeout));
    } else if (op == "try_wait") {
      std::printf("rc %d\n", zinc_try_wait(handle));
    } else if (op == "capacity") {
      std::printf("capacity %zu\n", static_cast<size_t>(zinc_capacity(handle)));
    } else if (op == "close") {
      zinc_close(handle);
      handle = nullptr;
      std::printf("ok\n");
    } else if (op == "spin") {
      unsigned us = 0;
      in >> us;
      std::printf("rc %d\n", zinc_set_spin(handle, us));
    } else if (op == "spin_limit") {
      std::printf("spin %u\n", zinc_get_spin(handle));
    } else if (op == "plain_open") {
      std::string name;
      in >> name;
      plain = zinc::test::PlainV2Handle::open(name);
      std::printf("rc %d\n", plain ? 0 : -2);
    } else if (op == "plain_wait") {
      unsigned timeout = 0;
      in >> timeout;
      std::printf("rc %d\n", plain->wait(timeout));
    } else if (op == "plain_notify") {
      plain->notify();
      std::printf("ok\n");
    } else if (op == "plain_close") {
      plain.reset();
      std::printf("ok\n");
    } else if (op == "exit") {
      break;
    } else {
      std::printf("unknown %s\n", op.c_str());
    }
    std::fflush(stdout);
  }
  zinc_close(handle);  // a clean exit releases (and, as owner, unlinks)
  return 0;
}
