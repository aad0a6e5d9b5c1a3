# The fuzz targets under libFuzzer, from the `clang` preset's build (clang,
# ASan + UBSan, -fsanitize=fuzzer-no-link; stage 15 built it and replayed
# every committed corpus): each target fuzzed for ZINC_FUZZ_SMOKE_SECONDS. A
# crash, leak, sanitizer report or failed check fails the stage; the input
# lands in fuzz/artifacts/<target>/.
# stage-timeout: 900
zinc_ctest "fuzz (libFuzzer smoke, asan+ubsan)" clang -L fuzz-smoke
grep -hE '^fuzz [a-z_]+: ' "$ZINC_ROOT/build/clang/Testing/Temporary/LastTest.log" 2>/dev/null || true
