#include "inspect.hpp"

#include <string>

#include "header.hpp"
#include "name.hpp"

namespace zinc::core {
Status inspect_object(std::string_view name, Inspection* out) {
  if (Status s = validate_name(name); !s.is_ok()) return s;
  const std::string object = object_name(name);
  if (Status s = posix::open_object(object, true, &out->fd); !s.is_ok()) {
    if (s.code == ZINC_ENOENT) {
      return Status::error(ZINC_ENOENT, "no region named '" + std::string(name) + "'");
    }
    // Not a regular file: identify it anyway, so that it can be removed.
    if (out->fd.get() >= 0) {
      out->identified = posix::stat_object(out->fd.get(), &out->size, &out->id).is_ok();
    } else if (s.code == ZINC_EBADMSG) {
      out->identified = posix::identify_object(object, &out->id).is_ok();
    }
    return with_name(s, name);
  }
  if (Status s = posix::stat_object(out->fd.get(), &out->size, &out->id); !s.is_ok()) {
    return with_name(s, name);
  }
  out->identified = true;
  uint8_t bytes[ZINC_HEADER_SIZE];
  size_t got = 0;
  if (Status s = posix::read_prefix(out->fd.get(), bytes, sizeof bytes, &got); !s.is_ok()) {
    return with_name(s, name);
  }
  const size_t page = posix::page_size();
  if (got < sizeof bytes) return with_name(validate_object_size(out->size, page), name);
  out->has_header = true;
  out->header = decode_header(bytes);
  Status s = validate_header(bytes, out->size, page);
  if (s.is_ok() && out->header.name_hash != name_hash(name)) {
    s = Status::error(ZINC_EBADMSG, "name_hash does not match the name (another region's header?)");
  }
  return with_name(s, name);
}

}  // namespace zinc::core
