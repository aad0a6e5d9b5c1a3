#include "regions.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace zinc::cli {

bool list_region_names(const std::string& prefix, std::vector<std::string>* names,
                       std::string* error) {
  names->clear();
  DIR* dir = opendir(kShmDir);
  if (dir == nullptr) {
    *error = std::string("cannot list ") + kShmDir + ": " + std::strerror(errno);
    return false;
  }
  const std::string wanted = "zinc_" + prefix;
  while (const dirent* entry = readdir(dir)) {
    const std::string file = entry->d_name;
    if (file.compare(0, wanted.size(), wanted) != 0 || file.size() == 5) continue;
    // Every kind of object is listed: a FIFO or symlink under a zinc name
    // blocks creates of that name, so ls shows it (as invalid) and rm clears it.
    names->push_back(file.substr(5));
  }
  closedir(dir);
  std::sort(names->begin(), names->end());
  return true;
}

RegionReport examine_region(const std::string& name) {
  RegionReport report;
  report.name = name;
  report.path = std::string(kShmDir) + "/zinc_" + name;
  struct stat st {};
  // lstat: a symlink is reported as what it is, never followed.
  if (lstat(report.path.c_str(), &st) == 0) {
    if (S_ISREG(st.st_mode)) {
      report.stat_ok = true;
      report.object_size = static_cast<uint64_t>(st.st_size);
      report.mode = st.st_mode & 07777;
      report.uid = st.st_uid;
    } else {
      report.not_regular = S_ISFIFO(st.st_mode)   ? "FIFO"
                           : S_ISLNK(st.st_mode)  ? "symbolic link"
                           : S_ISDIR(st.st_mode)  ? "directory"
                           : S_ISSOCK(st.st_mode) ? "socket"
                                                  : "special file";
    }
  }
  report.code = zinc_inspect(name.c_str(), &report.header);
  if (report.code != ZINC_OK) report.error = zinc_last_error_message();
  // zinc_inspect fills the header whenever 64 bytes could be read.
  report.has_header =
      report.stat_ok && report.object_size >= ZINC_HEADER_SIZE &&
      (report.code == ZINC_OK || report.code == ZINC_EBADMSG || report.code == ZINC_EAGAIN);
  if (report.code == ZINC_OK) {
    report.creator = zinc_creator_state(name.c_str());
    if (report.creator < 0) report.error = zinc_last_error_message();
  }
  if (report.code != ZINC_EINVAL) {
    std::vector<int32_t> pids(16);
    int32_t count = zinc_mapped_by(name.c_str(), pids.data(), pids.size());
    if (count > static_cast<int32_t>(pids.size())) {
      pids.resize(static_cast<size_t>(count) + 16);
      count = zinc_mapped_by(name.c_str(), pids.data(), pids.size());
    }
    report.mapped_code = count;
    if (count >= 0) {
      pids.resize(std::min(static_cast<size_t>(count), pids.size()));
      report.mapped_by = pids;
    }
  }
  return report;
}

const char* status_of(const RegionReport& report) {
  switch (report.code) {
    case ZINC_OK:
      break;
    case ZINC_EAGAIN:
      return "unfinished";
    case ZINC_EBADMSG:
      return "invalid";
    case ZINC_EINVAL:
      return "foreign";
    case ZINC_EPERM:
      return "unreadable";
    case ZINC_ENOENT:
      return "gone";
    default:
      return "error";
  }
  switch (report.creator) {
    case ZINC_CREATOR_ALIVE:
      return "live";
    case ZINC_CREATOR_DEAD:
    case ZINC_CREATOR_PID_REUSED:
      if (report.mapped_code < 0) return "unknown";
      return report.mapped_by.empty() ? "stale" : "orphaned";
    case ZINC_CREATOR_UNKNOWN:
      return "unknown";
    default:
      return report.creator == ZINC_ENOENT ? "gone" : "error";
  }
}

const char* creator_word(int32_t creator) {
  switch (creator) {
    case ZINC_CREATOR_ALIVE:
      return "alive";
    case ZINC_CREATOR_DEAD:
      return "dead";
    case ZINC_CREATOR_PID_REUSED:
      return "reused";
    case ZINC_CREATOR_UNKNOWN:
      return "unknown";
    default:
      return "-";
  }
}

std::string without_region_prefix(const std::string& name, const std::string& message) {
  const std::string prefix = "region '" + name + "': ";
  return message.compare(0, prefix.size(), prefix) == 0 ? message.substr(prefix.size()) : message;
}

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

std::string format_age(uint64_t created_at_ns, uint64_t now) {
  if (created_at_ns > now) return "future";
  const uint64_t s = (now - created_at_ns) / 1000000000ULL;
  char text[32];
  if (s < 60) {
    std::snprintf(text, sizeof text, "%" PRIu64 "s", s);
  } else if (s < 3600) {
    std::snprintf(text, sizeof text, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
  } else if (s < 86400) {
    std::snprintf(text, sizeof text, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
  } else {
    std::snprintf(text, sizeof text, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
  }
  return text;
}

std::string format_utc(uint64_t ns) {
  const time_t seconds = static_cast<time_t>(ns / 1000000000ULL);
  tm utc{};
  if (gmtime_r(&seconds, &utc) == nullptr) return "?";
  char date[40];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%s.%03uZ", date, static_cast<unsigned>(ns / 1000000ULL % 1000));
  return text;
}

std::string hex(uint64_t value, int digits) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%0*" PRIx64, digits, value);
  return text;
}

void report_members(Json& json, const RegionReport& report, uint64_t now) {
  json.key("name").value(report.name);
  json.key("path").value(report.path);
  json.key("status").value(status_of(report));
  json.key("valid").value(report.code == ZINC_OK);
  json.key("code").value(report.code);
  json.key("error");
  if (report.error.empty())
    json.null();
  else
    json.value(report.error);
  json.key("object_size");
  if (report.stat_ok)
    json.value(report.object_size);
  else
    json.null();
  json.key("mode");
  if (report.stat_ok) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", report.mode);
    json.value(mode);
  } else {
    json.null();
  }
  json.key("uid");
  if (report.stat_ok)
    json.value(report.uid);
  else
    json.null();
  json.key("header");
  if (report.has_header) {
    const ZincHeaderInfo& h = report.header;
    json.begin_object();
    json.key("magic").value(hex(h.magic, 16));
    json.key("version").value(uint32_t{h.version});
    json.key("flags").value(uint32_t{h.flags});
    json.key("notify_seq").value(h.notify_seq);
    json.key("capacity").value(h.capacity);
    json.key("ref_count").value(h.ref_count);
    json.key("owner_pid").value(h.owner_pid);
    json.key("created_at").value(h.created_at);
    json.key("name_hash").value(hex(h.name_hash, 16));
    json.key("ring_head").value(h.ring_head);
    json.key("ring_tail").value(h.ring_tail);
    json.end_object();
  } else {
    json.null();
  }
  json.key("creator");
  if (report.creator >= 0)
    json.value(creator_word(report.creator));
  else
    json.null();
  json.key("age_s");
  if (report.code == ZINC_OK && report.header.created_at <= now) {
    json.value(static_cast<double>(now - report.header.created_at) / 1e9);
  } else {
    json.null();
  }
  json.key("mapped_by");
  if (report.mapped_code >= 0 && report.code != ZINC_EINVAL) {
    json.begin_array();
    for (const int32_t pid : report.mapped_by) json.value(pid);
    json.end_array();
  } else {
    json.null();
  }
}

}  // namespace zinc::cli
