// The channel commands of the peer protocol (peer.hpp), one channel handle
// per peer beside its region handle:
//
//   channel_create NAME MODE SLOTS SIZE READERS FLAGS  -> "rc N"
//   channel_open_writer NAME | channel_open_reader NAME -> "rc N"
//   channel_write TIMEOUT_MS LENGTH SEED   -> "rc N seq S" (acquire, fill
//                                             LENGTH bytes with the pattern
//                                             for SEED, commit)
//   channel_read TIMEOUT_MS                -> "frame SEQ LENGTH HASH" (HASH:
//                                             FNV-1a 64 of the frame's bytes,
//                                             "0x..."; the frame is released)
//                                             | "rc N"
//   channel_close                          -> "ok"
//
// A library without the channel calls answers each with "rc none".
#pragma once

#include <sstream>
#include <string>

#include "library.hpp"

namespace zinc::conformance {

// Serves `op` (the rest of the line in `in`) if it is a channel command:
// prints the answer and returns true; false for any other command.
bool serve_channel_command(const Api& zinc, const std::string& op, std::istringstream& in,
                           ZincChannel* channel);

}  // namespace zinc::conformance
