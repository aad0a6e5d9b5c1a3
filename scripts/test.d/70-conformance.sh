# The conformance kit (tools/conformance): the reference passes it with --strict;
# each mutant of the core fails on the check named for its bug; a port with only
# the nine original functions passes; the vectors in spec/vectors are current and
# the reference agrees with every one; interop mode catches a private futex.
# Release build. A kit run spends nearly all its time waiting (a run over a
# mutant: 10-13 s wall, 1.3 s of CPU), so ZINC_CONFORMANCE_JOBS runs (default
# 16) share the 2 CPUs, the longest started first (COST in
# tools/conformance/CMakeLists.txt): 67 s on a quiet machine, where 8 at a
# time in ctest's own order took 123 s and ctest's usual 2 took 270 s.
# stage-timeout: 900
zinc_ctest "conformance" release -L conformance -j "${ZINC_CONFORMANCE_JOBS:-16}"
