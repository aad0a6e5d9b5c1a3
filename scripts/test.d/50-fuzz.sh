# The fuzz targets under libFuzzer, from the `clang` preset's build (clang,
# ASan + UBSan, -fsanitize=fuzzer-no-link; stage 15 built it and replayed
# every committed corpus): each target fuzzed for ZINC_FUZZ_SMOKE_SECONDS. A
# crash, leak, sanitizer report or failed check fails the stage; the input
# lands in fuzz/artifacts/<target>/. Then the OSS-Fuzz build, emulated.
# stage-timeout: 1200
# Fuzzing is CPU-bound: two targets at a time on 2 CPUs (the presets run 4
# tests at a time because most tests wait rather than compute).
zinc_ctest "fuzz (libFuzzer smoke, asan+ubsan)" clang -L fuzz-smoke -j 2
grep -hE '^fuzz [a-z_]+: ' "$ZINC_ROOT/build/clang/Testing/Temporary/LastTest.log" 2>/dev/null || true

# The OSS-Fuzz / ClusterFuzzLite build (.clusterfuzzlite/build.sh) with
# OSS-Fuzz's environment emulated, each target then run over its seed zip.
zinc_log "fuzz: OSS-Fuzz build emulated (scripts/oss-fuzz-build)"
oss_fuzz_started=$SECONDS
"$ZINC_ROOT/scripts/oss-fuzz-build" > "$ZINC_ROOT/build/oss-fuzz.log" 2>&1
oss_fuzz_rc=$?
grep -E '^(build.sh|  CFLAGS|zinc fuzz targets|oss-fuzz )' "$ZINC_ROOT/build/oss-fuzz.log"
oss_fuzz_passed="$(grep -cE '^oss-fuzz [a-z_]+: ok' "$ZINC_ROOT/build/oss-fuzz.log")"
oss_fuzz_failed="$(grep -cE '^oss-fuzz .*: FAILED' "$ZINC_ROOT/build/oss-fuzz.log")"
if [ "$oss_fuzz_rc" -ne 0 ] && [ "$oss_fuzz_failed" -eq 0 ]; then oss_fuzz_failed=1; fi
zinc_count "fuzz (OSS-Fuzz build emulated)" "$oss_fuzz_passed" "$oss_fuzz_failed" \
  "$((SECONDS - oss_fuzz_started)) s"
