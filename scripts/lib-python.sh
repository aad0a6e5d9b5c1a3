# The Python package's set-up, shared by scripts/test (its early start of the
# distributions), stages 40 and 45, and scripts/camera. Sourced by lib.sh;
# do not run it.

# What `pip install ./python` and scripts/wheel build from, hashed: the
# install and the distributions are made again only when it changes.
zinc_python_sources_hash() {
  (cd "$ZINC_ROOT" && find python/zinc python/pyproject.toml python/README.md python/build_cffi.py \
    python/CMakeLists.txt python/examples python/requirements-wheel.txt scripts/wheel \
    CMakeLists.txt cmake include src examples/demo.cpp -type f ! -path '*__pycache__*' -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

zinc_python_install() {
  local stamp="$ZINC_VENV/.zinc-shm-install.sha256" want log="$ZINC_ROOT/build/python-install.log"
  want="$(zinc_python_sources_hash)"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && "$ZINC_VENV/bin/python" -c 'import zinc' 2>/dev/null; then
    echo "zinc-shm is up to date in .venv"
    return 0
  fi
  echo "pip install ./python into .venv (log: build/python-install.log)"
  rm -f "$stamp"
  (cd "$ZINC_ROOT" && "$ZINC_VENV/bin/python" -m pip install --no-build-isolation --no-deps \
    --force-reinstall ./python) > "$log" 2>&1 || { tail -n 30 "$log"; return 1; }
  echo "$want" > "$stamp"
}

# The distributions (sdist, x86_64 and aarch64 wheels) are kept outside the
# checkout, one folder per sources hash, like ccache's objects: the builds
# are reproducible (scripts/wheel), so a fresh clone of sources built before
# reuses them instead of spending minutes in zig. ZINC_WHEEL_CACHE moves the
# cache; the newest few folders are kept.
zinc_python_dist_dir() {
  echo "${ZINC_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zinc-wheels}/$(zinc_python_sources_hash)"
}

# Makes the distributions of the current sources unless the cache holds them.
# One builder at a time: a second caller (stage 40 while scripts/test's early
# start is still building) waits for the first, then finds them made. The
# build log is build/python-dist.log.
zinc_python_dist() {
  local dist
  dist="$(zinc_python_dist_dir)"
  mkdir -p "$(dirname "$dist")" "$ZINC_ROOT/build/tmp" || return 1
  zinc_locked "$dist.lock" "${ZINC_WHEEL_LOCK_WAIT:-2400}" zinc_python_dist_unlocked "$dist"
}

zinc_python_dist_unlocked() {  # dist-folder; the caller holds its lock
  local dist="$1" log="$ZINC_ROOT/build/python-dist.log"
  if [ -f "$dist/.complete" ]; then
    echo "the distributions of these sources are made: $dist"
    return 0
  fi
  echo "scripts/wheel --out $dist (log: build/python-dist.log)"
  rm -rf "$dist" "$dist.partial"
  # The wheels are built from the sdist in a temporary folder: one under the
  # checkout (ccache's base_dir) lets ccache reuse the compiles of the last
  # build, whatever the folder's random name.
  if ! TMPDIR="$ZINC_ROOT/build/tmp" "$ZINC_ROOT/scripts/wheel" --out "$dist.partial" > "$log" 2>&1; then
    tail -n 30 "$log"
    rm -rf "$dist.partial"
    return 1
  fi
  touch "$dist.partial/.complete"
  mv "$dist.partial" "$dist"
  # The newest five sets of distributions stay; older ones go.
  (cd "$(dirname "$dist")" && ls -1td -- */ 2> /dev/null | tail -n +6 | xargs -r rm -rf --)
}

# The arm64 Debian root for stage 45 (see that file), outside the checkout,
# made once. What it holds; a root made for another description is made again.
ZINC_ARM64_ROOT="${ZINC_ARM64_ROOT:-/var/cache/zinc/arm64-bookworm}"
ZINC_ARM64_ROOT_SPEC="bookworm arm64 minbase + python3; cffi>=1.16 numpy>=1.26 for cp311 aarch64; v1"
ZINC_ARM64_APT_PACKAGES=(qemu-user-static debootstrap binutils)

# Makes the arm64 root unless the cached one matches ZINC_ARM64_ROOT_SPEC.
# debootstrap's first stage (--foreign) only: its second stage would run arm64
# maintainer scripts, which needs binfmt_misc. Unpacking every downloaded
# package is enough to run python3. Needs root and ZINC_ARM64_APT_PACKAGES.
zinc_arm64_root() {
  mkdir -p "$(dirname "$ZINC_ARM64_ROOT")" "$ZINC_ROOT/build" || return 1
  zinc_locked "$ZINC_ARM64_ROOT.lock" 1800 zinc_arm64_root_unlocked
}

zinc_arm64_root_unlocked() {  # the caller holds the root's lock
  local root="$ZINC_ARM64_ROOT" log="$ZINC_ROOT/build/arm64-root.log" deb
  if [ "$(cat "$root/.zinc-root" 2>/dev/null)" = "$ZINC_ARM64_ROOT_SPEC" ]; then
    cp /usr/bin/qemu-aarch64-static "$root/usr/bin/"
    echo "arm64 root: $root (cached)"
    return 0
  fi
  echo "arm64 root: making $root (log: build/arm64-root.log)"
  local fresh="$root.new" platforms=() minor
  # Every manylinux tag bookworm's glibc 2.36 runs (pip does not widen one).
  for minor in 17 24 26 27 28 31 34 35 36; do platforms+=(--platform "manylinux_2_${minor}_aarch64"); done
  rm -rf "$fresh"
  if ! (
    debootstrap --foreign --arch=arm64 --variant=minbase --include=python3 bookworm "$fresh" \
      && for deb in "$fresh"/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$fresh" || exit 1; done \
      && rm -f "$fresh"/var/cache/apt/archives/*.deb \
      && "$ZINC_VENV/bin/python" -m pip install -q --target "$fresh/opt/zinc-deps" \
        "${platforms[@]}" --implementation cp --python-version 3.11 \
        --only-binary=:all: "cffi>=1.16" "numpy>=1.26"
  ) > "$log" 2>&1; then
    tail -n 20 "$log"
    rm -rf "$fresh"
    return 1
  fi
  cp /usr/bin/qemu-aarch64-static "$fresh/usr/bin/"
  echo "$ZINC_ARM64_ROOT_SPEC" > "$fresh/.zinc-root"
  rm -rf "$root"
  mv "$fresh" "$root"
}

# What the Python stages need that does not use this checkout's builds: the
# distributions and (as root) the arm64 root. scripts/test starts it at once,
# at the lowest CPU priority, so zig's compiles and debootstrap's downloads
# run while the C++ stages wait on sockets, futexes and sleeps; the stages
# that need them then find them ready (or wait for the lock).
zinc_python_early_start() {
  zinc_python_dist || echo "early start: the distributions were not made (stage 40 tries again)"
  if [ "$(id -u)" -eq 0 ]; then
    zinc_ensure_apt "${ZINC_ARM64_APT_PACKAGES[@]}" && zinc_arm64_root \
      || echo "early start: no arm64 root (stage 45 tries again)"
  fi
}
