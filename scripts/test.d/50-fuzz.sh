# The fuzz targets under libFuzzer (clang, ASan + UBSan; the fuzz preset): each
# committed corpus replayed, then each target fuzzed for ZINC_FUZZ_SMOKE_SECONDS
# (25 s). A crash, leak, sanitizer report or failed check fails the stage; the
# input lands in fuzz/artifacts/<target>/. The replays also run in every other
# preset (fuzz_replay_* tests of stages 10-30).
zinc_ctest "fuzz (libFuzzer smoke, asan+ubsan)" fuzz
grep -hE '^fuzz [a-z_]+: ' "$ZINC_ROOT/build/fuzz/Testing/Temporary/LastTest.log" 2>/dev/null || true
