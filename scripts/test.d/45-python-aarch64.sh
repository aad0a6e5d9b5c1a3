# The aarch64 wheel under emulation: Debian's qemu-user-static runs an arm64
# Debian root (python3 from debootstrap, cffi and numpy from PyPI's aarch64
# wheels), into which the aarch64 wheel from scripts/wheel is installed with
# pip's manylinux2014_aarch64 check. python/tests/test_aarch64_emulated.py
# then runs the two-process region example and channel writers and readers
# there (and one x86-64 reader of an aarch64 writer).
#
# The root is made once and kept outside the checkout, in
# $ZINC_ARM64_ROOT (default /var/cache/zinc/arm64-bookworm; about 250 MB,
# a minute or two to make). No binfmt_misc is needed: every emulated process
# is started as chroot + qemu-aarch64-static in a mount namespace of its own
# (unshare), which also makes this stage need root; without root it counts
# one failure that says so. Bounded by ZINC_ARM64_TIMEOUT seconds (default 900).

ZINC_ARM64_ROOT="${ZINC_ARM64_ROOT:-/var/cache/zinc/arm64-bookworm}"
# What the root holds; a root made for another description is made again.
ZINC_ARM64_ROOT_SPEC="bookworm arm64 minbase + python3; cffi>=1.16 numpy>=1.26 for cp311 aarch64; v1"

# Makes the arm64 root unless the cached one matches ZINC_ARM64_ROOT_SPEC.
# debootstrap's first stage (--foreign) only: its second stage would run arm64
# maintainer scripts, which needs binfmt_misc. Unpacking every downloaded
# package is enough to run python3.
zinc_arm64_root() {
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
  mkdir -p "$(dirname "$root")"
  {
    debootstrap --foreign --arch=arm64 --variant=minbase --include=python3 bookworm "$fresh" \
      && for deb in "$fresh"/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$fresh" || exit 1; done \
      && rm -f "$fresh"/var/cache/apt/archives/*.deb \
      && "$ZINC_VENV/bin/python" -m pip install -q --target "$fresh/opt/zinc-deps" \
        "${platforms[@]}" --implementation cp --python-version 3.11 \
        --only-binary=:all: "cffi>=1.16" "numpy>=1.26"
  } > "$log" 2>&1 || { tail -n 20 "$log"; rm -rf "$fresh"; return 1; }
  cp /usr/bin/qemu-aarch64-static "$fresh/usr/bin/"
  echo "$ZINC_ARM64_ROOT_SPEC" > "$fresh/.zinc-root"
  rm -rf "$root"
  mv "$fresh" "$root"
}

# The aarch64 wheel: the one 40-python.sh made into build/dist-test when it is
# up to date, or a build of that architecture alone.
zinc_arm64_wheel() {
  local want dist log="$ZINC_ROOT/build/python-dist-aarch64.log"
  want="$(zinc_python_sources_hash)"
  for dist in "$ZINC_ROOT/build/dist-test" "$ZINC_ROOT/build/dist-aarch64"; do
    if [ "$(cat "$dist/.sources.sha256" 2>/dev/null)" = "$want" ] \
      && ls "$dist"/zinc_shm-*_aarch64.whl > /dev/null 2>&1; then
      ls "$dist"/zinc_shm-*_aarch64.whl
      return 0
    fi
  done
  dist="$ZINC_ROOT/build/dist-aarch64"
  rm -rf "$dist"
  echo "scripts/wheel --arch aarch64 --out build/dist-aarch64 (log: build/python-dist-aarch64.log)" >&2
  "$ZINC_ROOT/scripts/wheel" --arch aarch64 --out "$dist" > "$log" 2>&1 || { tail -n 30 "$log" >&2; return 1; }
  echo "$want" > "$dist/.sources.sha256"
  ls "$dist"/zinc_shm-*_aarch64.whl
}

zinc_python_aarch64() {
  local started=$SECONDS wheel
  if [ "$(id -u)" -ne 0 ]; then
    echo "needs root (chroot and unshare --mount)"
    zinc_count "python aarch64 (root)" 0 1
    return
  fi
  local -a ZINC_APT_PACKAGES=(qemu-user-static debootstrap binutils)
  zinc_ensure_apt || { zinc_count "python aarch64 (apt)" 0 1; return; }
  zinc_arm64_root || { zinc_count "python aarch64 (arm64 root)" 0 1; return; }
  echo "  ready after $((SECONDS - started)) s"
  # The tests import the x86-64 package too (conftest.py, the host reader).
  zinc_python_install || { zinc_count "python aarch64 (install)" 0 1; return; }
  wheel="$(zinc_arm64_wheel)" || { zinc_count "python aarch64 (wheel)" 0 1; return; }
  echo "wheel: ${wheel#"$ZINC_ROOT/"} (ready after $((SECONDS - started)) s)"
  rm -rf "$ZINC_ARM64_ROOT/opt/zinc-wheel"
  if ! "$ZINC_VENV/bin/python" -m pip install -q --target "$ZINC_ARM64_ROOT/opt/zinc-wheel" \
    --platform manylinux2014_aarch64 --implementation cp --python-version 3.11 \
    --only-binary=:all: --no-deps "$wheel"; then
    zinc_count "python aarch64 (pip install --platform manylinux2014_aarch64)" 0 1
    return
  fi
  zinc_pytest "python aarch64" timeout "${ZINC_ARM64_TIMEOUT:-900}" env -u ZINC_LIBRARY \
    ZINC_ARM64_ROOT="$ZINC_ARM64_ROOT" "$ZINC_VENV/bin/python" -m pytest \
    python/tests/test_aarch64_emulated.py -p no:cacheprovider -v -s --durations=4
  zinc_sweep_test_objects
  echo "  python aarch64 stage: $((SECONDS - started)) s"
}

zinc_log "python aarch64: the aarch64 wheel under qemu-user"
mkdir -p "$ZINC_ROOT/build"
zinc_python_aarch64
