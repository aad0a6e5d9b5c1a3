#!/bin/bash -eu
# Builds zinc's fuzz targets the way OSS-Fuzz and ClusterFuzzLite do: with
# the compilers and flags they give ($CC $CXX $CFLAGS $CXXFLAGS, sanitizer and
# coverage flags included) and linked with their engine ($LIB_FUZZING_ENGINE:
# -fsanitize=fuzzer for libFuzzer, AFL++'s driver, ...). Writes to $OUT, per
# target: the binary, <target>_seed_corpus.zip (the committed seeds),
# <target>.options and the dictionary it names. The build tree is $WORK/zinc-fuzz.
# scripts/oss-fuzz-build runs this script with OSS-Fuzz's environment
# emulated, without Docker (the test command does, in stage 50).
set -euo pipefail  # also when run as `bash build.sh`, which ignores the #! line's flags
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${WORK:-/tmp}/zinc-fuzz"

# CMake takes CC/CXX/CFLAGS/CXXFLAGS from the environment when it first
# configures a tree; the engine goes in as ZINC_FUZZING_ENGINE. Sanitizer
# flags come from CFLAGS, so ZINC_SANITIZE stays empty; OSS-Fuzz decides.
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE= \
  -DZINC_BUILD_FUZZERS=ON \
  -DZINC_BUILD_TESTS=OFF \
  -DZINC_WERROR=OFF \
  -DZINC_FUZZING_ENGINE="$LIB_FUZZING_ENGINE"

targets=$(sed -nE 's/^set\(ZINC_FUZZ_TARGETS (.*)\)$/\1/p' "$root/fuzz/CMakeLists.txt")
cmake --build "$build" --target $(printf 'zinc_fuzz_%s ' $targets)

for target in $targets; do
  cp "$build/fuzz/$target" "$OUT/$target"
  corpus="$root/fuzz/corpus/$target"
  rm -f "$OUT/${target}_seed_corpus.zip"
  (cd "$corpus/seeds" && zip -q -r -X "$OUT/${target}_seed_corpus.zip" .)
  # The .options name the dictionary (which may serve several targets).
  cp "$corpus/$target.options" "$OUT/$target.options"
  dict=$(sed -nE 's/^dict = (.*)$/\1/p' "$corpus/$target.options")
  if [ -n "$dict" ]; then
    cp "$(ls "$root"/fuzz/corpus/*/"$dict" | head -n 1)" "$OUT/$dict"
  fi
done
echo "zinc fuzz targets in $OUT: $targets"
