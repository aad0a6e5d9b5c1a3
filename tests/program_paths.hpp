// Where a test program finds the build's other programs and the vectors.
// Each is defined in a source file that zinc_program_paths() (CMakeLists.txt)
// generates for the targets that use it; a target links only the ones it
// names there.
#pragma once

namespace zinc::test::paths {
extern const char* const kTestPeer;     // tests/peer.cpp
extern const char* const kChannelPeer;  // tests/channel_peer.cpp
extern const char* const kVectorsDir;   // spec/vectors
extern const char* const kCli;          // the `zinc` tool (tools/cli)
extern const char* const kStressWorker;  // stress/worker.cpp
}  // namespace zinc::test::paths
