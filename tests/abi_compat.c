/*
 * A program written against the original zinc C ABI (the nine functions,
 * the unprefixed MAGIC/VERSION macros, literal return codes as the original
 * adapters compare them). It must compile as C and pass unchanged.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "zinc.h"

static int failures = 0;

#define CHECK(cond)                                               \
  do {                                                            \
    if (!(cond)) {                                                \
      fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                 \
    }                                                             \
  } while (0)

int main(void) {
  char name[64];
  ZincHandle owner = NULL, reader = NULL, missing = (ZincHandle)1;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

  snprintf(name, sizeof name, "abi_compat_%d", (int)getpid());
  CHECK(zinc_version() == 131073u);
  CHECK(zinc_version() >> 16 == VERSION);
  CHECK((uint64_t)MAGIC == 0x5A494E435F524547ULL);

  CHECK(zinc_create(name, page, &owner) == 0);
  CHECK(owner != NULL);
  CHECK(zinc_capacity(owner) == page);
  CHECK(zinc_create(name, page, &missing) == -17);
  CHECK(missing == NULL);
  CHECK(zinc_open(name, &reader) == 0);

  memcpy(zinc_ptr(owner), "hello", 6);
  CHECK(strcmp((const char *)zinc_ptr(reader), "hello") == 0);

  CHECK(zinc_try_wait(reader) == -11);
  zinc_notify(owner);
  CHECK(zinc_try_wait(reader) == 0);
  CHECK(zinc_wait(reader, 0) == -110);
  zinc_notify(owner);
  CHECK(zinc_wait(reader, 1000) == 0);
  CHECK(zinc_try_wait(owner) == 0); /* a handle sees its own notifications */

  CHECK(zinc_create(name, page + 1, &missing) == -22);
  CHECK(zinc_create("bad/name", page, &missing) == -22);
  CHECK(zinc_open(NULL, &missing) == -22 && missing == NULL);
  CHECK(zinc_open(name, NULL) == -22);
  CHECK(zinc_wait(NULL, 0) == -22);
  CHECK(zinc_try_wait(NULL) == -22);
  CHECK(zinc_ptr(NULL) == NULL);
  CHECK(zinc_capacity(NULL) == 0);
  zinc_notify(NULL);
  zinc_close(NULL);

  zinc_close(owner);
  CHECK(zinc_open(name, &missing) == -2);
  CHECK(strcmp((const char *)zinc_ptr(reader), "hello") == 0);
  zinc_close(reader);

  if (failures == 0) printf("abi_compat: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
