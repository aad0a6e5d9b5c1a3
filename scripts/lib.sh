# Shared by the scripts in this folder: set-up of what zinc needs on Debian,
# builds by preset, and the pass/fail tally that scripts/test prints last.
# Source it; do not run it.

ZINC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ZINC_VENV="$ZINC_ROOT/.venv"

# Debian packages the build and the tests use (iproute2: the bridge's network
# namespace test, python/tests/test_bridge_netns.py).
ZINC_APT_PACKAGES=(g++ cmake ninja-build pkg-config binutils patch clang libclang-rt-14-dev
  llvm-14 ccache zip unzip libgtest-dev librapidcheck-dev libbenchmark-dev python3 python3-venv
  python3-dev iproute2)

# Every compile goes through ccache, whose cache lives outside the checkout
# (ZINC_CCACHE_DIR, default ~/.cache/zinc-ccache): a fresh clone on a machine
# where the suite ran before compiles almost nothing. Paths are rewritten
# relative to the checkout (base_dir) and the working directory is left out
# of the hash, so clones at other paths share the cache. CMake reads the
# launcher from the environment when it configures a build tree; pip's and
# scikit-build-core's builds of the Python package inherit it too.
zinc_use_ccache() {
  command -v ccache > /dev/null || return 0
  export CCACHE_DIR="${ZINC_CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/zinc-ccache}"
  export CCACHE_BASEDIR="$ZINC_ROOT"
  export CCACHE_NOHASHDIR=1
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
  export CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
}

zinc_log() { printf '\n=== %s\n' "$*"; }

# Installs whatever Debian packages are missing (once; quick when none are):
# those named as arguments, or ZINC_APT_PACKAGES.
zinc_ensure_apt() {
  local missing=() wanted=("$@")
  [ ${#wanted[@]} -eq 0 ] && wanted=("${ZINC_APT_PACKAGES[@]}")
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  zinc_log "installing Debian packages: ${missing[*]}"
  # scripts/test's early start may install while a stage does: one at a time.
  zinc_locked "/tmp/zinc-apt-$(id -u).lock" 900 zinc_apt_install "${missing[@]}"
}

zinc_apt_install() {  # packages...
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

# Runs a command (a shell function too) in a subshell that holds an
# exclusive lock on FILE, waiting at most SECONDS for it; the lock goes when
# the subshell ends, on every path. Usage: zinc_locked FILE SECONDS COMMAND...
zinc_locked() {
  local file="$1" seconds="$2"
  shift 2
  (
    flock -w "$seconds" 9 || { echo "waited $seconds s for the lock $file" >&2; exit 1; }
    "$@"
  ) 9> "$file"
}

# A virtualenv in .venv with the Python test tools; reinstalls only when
# python/requirements-dev.txt changes.
zinc_ensure_venv() {
  local req="$ZINC_ROOT/python/requirements-dev.txt"
  [ -f "$req" ] || return 0
  if [ ! -x "$ZINC_VENV/bin/python" ]; then
    zinc_log "creating $ZINC_VENV"
    python3 -m venv "$ZINC_VENV" || return 1
  fi
  local stamp="$ZINC_VENV/.requirements.sha256"
  local want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    zinc_log "installing Python packages from python/requirements-dev.txt"
    "$ZINC_VENV/bin/python" -m pip install -q --upgrade pip || return 1
    "$ZINC_VENV/bin/python" -m pip install -q -r "$req" || return 1
    echo "$want" > "$stamp"
  fi
}

zinc_setup() {
  zinc_ensure_apt || { echo "set-up failed: could not install Debian packages" >&2; return 1; }
  zinc_use_ccache
  zinc_ensure_venv || { echo "set-up failed: could not prepare $ZINC_VENV" >&2; return 1; }
}

# The Python package's install and distributions (zinc_python_install, ...).
source "$ZINC_ROOT/scripts/lib-python.sh"

# Configures (first time) and builds one CMake preset.
zinc_build() {
  local preset="$1"
  zinc_use_ccache
  # Configured the first time, and again when the presets changed since (a
  # tree keeps the cache variables it was configured with).
  if [ ! -f "$ZINC_ROOT/build/$preset/build.ninja" ] \
    || [ "$ZINC_ROOT/CMakePresets.json" -nt "$ZINC_ROOT/build/$preset/CMakeCache.txt" ]; then
    cmake --preset "$preset" -S "$ZINC_ROOT" > "$ZINC_ROOT/build/configure-$preset.log" 2>&1 \
      || { cat "$ZINC_ROOT/build/configure-$preset.log"; return 1; }
  fi
  cmake --build --preset "$preset" -- -k 0 2>&1 | tail -n 20 | grep -vE '^\[[0-9]+/[0-9]+\]|no work to do' || true
  # Re-run quietly: the exit status of the build is what counts.
  cmake --build --preset "$preset" > /dev/null 2>&1
}

# Builds bench/iceoryx2 (the iceoryx2 side of the fan-out benchmark, in Rust)
# into build/iceoryx2 with cargo, which fetches the pinned crates from
# crates.io the first time. Prints the binary's path; returns 2 when cargo is
# not installed, 1 when the build failed (the reason on stderr either way).
zinc_build_iceoryx2_bench() {
  local cargo log="$ZINC_ROOT/build/iceoryx2-build.log"
  cargo="$(command -v cargo || true)"
  [ -z "$cargo" ] && [ -x "$HOME/.cargo/bin/cargo" ] && cargo="$HOME/.cargo/bin/cargo"
  if [ -z "$cargo" ]; then
    echo "cargo is not installed: no iceoryx2 benchmark" >&2
    return 2
  fi
  mkdir -p "$ZINC_ROOT/build"
  if ! "$cargo" build --release --locked --manifest-path "$ZINC_ROOT/bench/iceoryx2/Cargo.toml" \
    --target-dir "$ZINC_ROOT/build/iceoryx2" > "$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "the iceoryx2 benchmark did not build (log: build/iceoryx2-build.log)" >&2
    return 1
  fi
  echo "$ZINC_ROOT/build/iceoryx2/release/zinc_bench_fanout_iceoryx2"
}

# When this run of the scripts started (seconds since the epoch); the
# sweep below leaves younger objects it cannot judge to the next run.
export ZINC_RUN_STARTED="${ZINC_RUN_STARTED:-$(date +%s)}"

# Removes test objects ("/dev/shm/zinc_t<pid>-...") that a test killed by a
# sanitizer or a signal left behind, and nothing a live process may still
# use. "kill -0 <pid>" failing proves nothing: a test process in another pid
# namespace (a container sharing /dev/shm) lives under a pid that is free
# here. So an object is removed only when, beyond that:
#   - no process this /proc shows maps it or holds it open;
#   - no lock is held on it (/proc/locks lists every open-file-description
#     lock, whatever the holder's namespace: zinc's liveness locks, the
#     removers' flock);
#   - and either it is a region with the liveness-lock flag (header flags
#     bit 0: then a free creator lock means its creator is dead), or it is
#     older than this run (then no test of this run made it).
zinc_sweep_test_objects() {
  local f base pid inode magic flags
  local used locked
  used="$( (cat /proc/[0-9]*/maps 2>/dev/null | grep -o '/dev/shm/zinc_t[^ ]*'
    find /proc/[0-9]*/fd -lname '/dev/shm/zinc_t*' -printf '%l\n' 2>/dev/null) | sort -u)"
  locked="$(awk '{ split($(NF-2), id, ":"); print id[3] }' /proc/locks 2>/dev/null | sort -u)"
  for f in /dev/shm/zinc_t[0-9]*; do
    [ -e "$f" ] || continue
    base="${f#/dev/shm/zinc_t}"
    pid="${base%%-*}"
    kill -0 "$pid" 2>/dev/null && continue
    grep -qxF "$f" <<< "$used" && continue
    inode="$(stat -c %i "$f" 2>/dev/null)" || continue
    grep -qx "$inode" <<< "$locked" && continue
    magic="$(od -An -tx8 -N8 "$f" 2>/dev/null | tr -d ' ')"
    flags="$(od -An -tu2 -j10 -N2 "$f" 2>/dev/null | tr -d ' ')"
    if [ "$magic" = 5a494e435f524547 ] && [ $(( ${flags:-0} & 1 )) -eq 1 ]; then
      rm -f "$f"
    elif [ "$(stat -c %Y "$f" 2>/dev/null || echo 0)" -lt "$ZINC_RUN_STARTED" ]; then
      rm -f "$f"
    fi
  done
}

# --- the tally ---------------------------------------------------------------
ZINC_PASSED=0
ZINC_FAILED=0
ZINC_FAILED_STAGES=()

zinc_count() {  # stage passed failed [what the time went on]
  ZINC_PASSED=$((ZINC_PASSED + $2))
  ZINC_FAILED=$((ZINC_FAILED + $3))
  if [ "$3" -ne 0 ]; then ZINC_FAILED_STAGES+=("$1"); fi
  printf -- '--- %s: %d passed, %d failed%s\n' "$1" "$2" "$3" "${4:+ ($4)}"
}

# Runs ctest for a preset (extra args go to ctest) and counts its tests.
zinc_ctest() {
  local stage="$1" preset="$2"
  shift 2
  zinc_log "$stage"
  local build_start=$SECONDS test_start
  if ! mkdir -p "$ZINC_ROOT/build" || ! zinc_build "$preset"; then
    echo "build of preset $preset failed"
    zinc_count "$stage (build)" 0 1
    return
  fi
  test_start=$SECONDS
  local log="$ZINC_ROOT/build/ctest-$preset.log"
  (cd "$ZINC_ROOT" && ctest --preset "$preset" "$@") > "$log" 2>&1
  local rc=$?
  zinc_sweep_test_objects
  grep -E '\*\*\*|tests passed|^[[:space:]]+[0-9]+ - ' "$log" | tail -n 40
  # Where the time goes: the slowest tests of the stage.
  grep -E '^ *[0-9]+/[0-9]+ Test +#' "$log" | sed -E 's/.* Test +#[0-9]+: ([^ ]+) .* ([0-9.]+) sec$/\2 s \1/' \
    | sort -rn | head -n 5 | sed 's/^/    slowest: /'
  local timing="build $((test_start - build_start)) s, tests $((SECONDS - test_start)) s"
  local summary total failed
  summary="$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)"
  if [ -z "$summary" ]; then
    tail -n 30 "$log"
    zinc_count "$stage" 0 1 "$timing"
    return
  fi
  failed="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<< "$summary")"
  total="$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<< "$summary")"
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  zinc_count "$stage" $((total - failed)) "$failed" "$timing"
}

# Runs a command whose output ends in a pytest summary line and counts it.
zinc_pytest() {
  local stage="$1"
  shift
  zinc_log "$stage"
  local log="$ZINC_ROOT/build/pytest-${stage// /_}.log"
  mkdir -p "$ZINC_ROOT/build"
  "$@" 2>&1 | tee "$log" | tail -n 40
  local rc=${PIPESTATUS[0]}
  local line passed failed errors
  line="$(grep -E '^=+ .*(passed|failed|error|no tests ran).* in [0-9.]+s' "$log" | tail -n 1)"
  passed="$(grep -oE '[0-9]+ passed' <<< "$line" | cut -d' ' -f1)"
  failed="$(grep -oE '[0-9]+ failed' <<< "$line" | cut -d' ' -f1)"
  errors="$(grep -oE '[0-9]+ errors?' <<< "$line" | cut -d' ' -f1)"
  passed=${passed:-0}
  failed=$(( ${failed:-0} + ${errors:-0} ))
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  zinc_count "$stage" "$passed" "$failed"
}
