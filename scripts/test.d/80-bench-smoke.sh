# Each benchmark (bench/) runs for a fraction of a second and must finish
# cleanly and print well-formed results; its numbers are not checked.
# scripts/bench runs them for real.
# stage-timeout: 900
zinc_ctest "bench smoke" release -L bench-smoke

# The iceoryx2 side of the fan-out benchmark is Rust, built with cargo (about
# 1.5 min, crates from crates.io). The suite smokes it when scripts/bench has
# built it here before, or with ZINC_BENCH_ICEORYX2=1 (then without cargo it
# is skipped and a failed build fails the stage): a fresh clone's suite does
# not depend on the Rust toolchain or crates.io. The same check as the C++
# drivers' (bench/smoke_check.cmake).
zinc_log "bench smoke: iceoryx2 fan-out"
if [ "${ZINC_BENCH_ICEORYX2:-0}" = 1 ] || [ -d "$ZINC_ROOT/build/iceoryx2/release" ]; then
  iceoryx2_bench="$(zinc_build_iceoryx2_bench)"
  iceoryx2_built=$?
else
  iceoryx2_built=3
fi
iceoryx2_files() { ls -d /dev/shm/zinc-bench-iox2-* /tmp/zinc-bench-iceoryx2-* 2>/dev/null; }
if [ "$iceoryx2_built" -eq 0 ]; then
  iceoryx2_before="$(iceoryx2_files)"
  keys=readers,frame_bytes,frames,latency_p50_ns,latency_p99_ns,fastest_p50_ns,slowest_p50_ns
  if timeout 120 cmake -DKEYS="$keys" -P "$ZINC_ROOT/bench/smoke_check.cmake" -- \
    "$iceoryx2_bench" --readers=3 --seconds=0.05 --warmup=0.01 --samples=100 --json=- \
    > "$ZINC_ROOT/build/iceoryx2-smoke.log" 2>&1; then
    if [ "$(iceoryx2_files)" = "$iceoryx2_before" ]; then
      zinc_count "bench smoke: iceoryx2 fan-out" 1 0
    else
      echo "the iceoryx2 benchmark left files behind:"
      iceoryx2_files
      zinc_count "bench smoke: iceoryx2 fan-out" 0 1
    fi
  else
    tail -n 20 "$ZINC_ROOT/build/iceoryx2-smoke.log"
    zinc_count "bench smoke: iceoryx2 fan-out" 0 1
  fi
elif [ "$iceoryx2_built" -eq 2 ]; then
  echo "skipped: no cargo"
elif [ "$iceoryx2_built" -eq 3 ]; then
  echo "skipped: not built yet (scripts/bench builds it; or ZINC_BENCH_ICEORYX2=1 scripts/test bench)"
else
  zinc_count "bench smoke: iceoryx2 fan-out (build)" 0 1
fi
