# The conformance kit (tools/conformance): the reference passes it with --strict;
# each mutant of the core fails on the check named for its bug; a port with only
# the nine original functions passes; the vectors in spec/vectors are current and
# the reference agrees with every one; interop mode catches a private futex.
# Release build. A kit run spends nearly all its time waiting (a run over a
# mutant: 13 s wall, 1.1 s of CPU), so ZINC_CONFORMANCE_JOBS runs (default 8)
# share the 2 CPUs: about 80 s instead of 270 s at ctest's usual 2.
# stage-timeout: 900
zinc_ctest "conformance" release -L conformance -j "${ZINC_CONFORMANCE_JOBS:-8}"
