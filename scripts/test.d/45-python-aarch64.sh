# The aarch64 wheel under emulation: Debian's qemu-user-static runs an arm64
# Debian root (python3 from debootstrap, cffi and numpy from PyPI's aarch64
# wheels), into which the aarch64 wheel from scripts/wheel is installed with
# pip's manylinux2014_aarch64 check. python/tests/test_aarch64_emulated.py
# then imports the wheel's stable-ABI extension zinc._fastpath and runs the
# two-process region example and channel writers and readers there (and one
# x86-64 reader of an aarch64 writer).
#
# The root is made once and kept outside the checkout, in
# $ZINC_ARM64_ROOT (default /var/cache/zinc/arm64-bookworm; about 250 MB,
# a minute or two to make). No binfmt_misc is needed: every emulated process
# is started as chroot + qemu-aarch64-static in a mount namespace of its own
# (unshare), which also makes this stage need root; without root it counts
# one failure that says so. Bounded by ZINC_ARM64_TIMEOUT seconds (default 900).

# The root's functions and its description are in scripts/lib-python.sh.

# The aarch64 wheel of the current sources (zinc_python_dist makes both).
zinc_arm64_wheel() {
  zinc_python_dist >&2 || return 1
  ls "$(zinc_python_dist_dir)"/zinc_shm-*_aarch64.whl
}

zinc_python_aarch64() {
  local started=$SECONDS wheel
  if [ "$(id -u)" -ne 0 ]; then
    echo "needs root (chroot and unshare --mount)"
    zinc_count "python aarch64 (root)" 0 1
    return
  fi
  zinc_ensure_apt "${ZINC_ARM64_APT_PACKAGES[@]}" || { zinc_count "python aarch64 (apt)" 0 1; return; }
  zinc_arm64_root || { zinc_count "python aarch64 (arm64 root)" 0 1; return; }
  echo "  ready after $((SECONDS - started)) s"
  # The tests import the x86-64 package too (conftest.py, the host reader).
  zinc_python_install || { zinc_count "python aarch64 (install)" 0 1; return; }
  wheel="$(zinc_arm64_wheel)" || { zinc_count "python aarch64 (wheel)" 0 1; return; }
  echo "wheel: ${wheel} (ready after $((SECONDS - started)) s)"
  rm -rf "$ZINC_ARM64_ROOT/opt/zinc-wheel"
  if ! "$ZINC_VENV/bin/python" -m pip install -q --target "$ZINC_ARM64_ROOT/opt/zinc-wheel" \
    --platform manylinux2014_aarch64 --implementation cp --python-version 3.11 \
    --only-binary=:all: --no-deps "$wheel"; then
    zinc_count "python aarch64 (pip install --platform manylinux2014_aarch64)" 0 1
    return
  fi
  zinc_pytest "python aarch64" timeout "${ZINC_ARM64_TIMEOUT:-900}" env -u ZINC_LIBRARY \
    ZINC_TEST_ARM64_ROOT="$ZINC_ARM64_ROOT" "$ZINC_VENV/bin/python" -m pytest \
    python/tests/test_aarch64_emulated.py -p no:cacheprovider -v -s --durations=4
  zinc_sweep_test_objects
  echo "  python aarch64 stage: $((SECONDS - started)) s"
}

zinc_log "python aarch64: the aarch64 wheel under qemu-user"
mkdir -p "$ZINC_ROOT/build"
zinc_python_aarch64
