# The Python adapter: installs ./python into .venv the way a user does (pip
# install, not editable: scikit-build-core builds libzinc_core with CMake and
# puts it and zinc.h into the package), then runs python/tests against that
# installed package, including mypy --strict. The install is skipped when
# nothing it is built from changed since the last one. scripts/wheel makes the
# sdist and the wheel into build/dist-test once per change of the same
# sources; tests/test_packaging.py installs them into fresh virtualenvs.
# zinc_python_install is in scripts/lib.sh (scripts/camera uses it too).
# stage-timeout: 1800

zinc_python_dist() {
  local dist="$ZINC_ROOT/build/dist-test" want log="$ZINC_ROOT/build/python-dist.log"
  local stamp="$dist/.sources.sha256"
  want="$(zinc_python_sources_hash)"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && ls "$dist"/zinc_shm-*.whl > /dev/null 2>&1; then
    echo "the sdist and wheel in build/dist-test are up to date"
    return 0
  fi
  echo "scripts/wheel --out build/dist-test (log: build/python-dist.log)"
  rm -rf "$dist"
  # The wheel is built from the sdist in a temporary folder: one under the
  # checkout (ccache's base_dir) lets ccache reuse the compiles of the last
  # build, whatever the folder's random name.
  mkdir -p "$ZINC_ROOT/build/tmp"
  TMPDIR="$ZINC_ROOT/build/tmp" "$ZINC_ROOT/scripts/wheel" --out "$dist" > "$log" 2>&1 \
    || { tail -n 30 "$log"; return 1; }
  echo "$want" > "$stamp"
}

zinc_log "python: install"
mkdir -p "$ZINC_ROOT/build"
if zinc_python_install; then
  dist_env=()
  if zinc_python_dist; then
    dist_env=(ZINC_TEST_DIST="$ZINC_ROOT/build/dist-test")
  else
    zinc_count "python (scripts/wheel)" 0 1
  fi
  # scripts/test runs stages from the repository root. Temporary folders
  # under the checkout (ccache's base_dir): test_packaging.py's builds of the
  # sdist then reuse the cache too.
  mkdir -p "$ZINC_ROOT/build/tmp"
  zinc_pytest "python" env -u ZINC_LIBRARY ZINC_TEST_INSTALLED=1 HYPOTHESIS_PROFILE=ci \
    TMPDIR="$ZINC_ROOT/build/tmp" \
    "${dist_env[@]}" "$ZINC_VENV/bin/python" -m pytest python/tests -p no:cacheprovider --durations=8
  zinc_sweep_test_objects
else
  zinc_count "python (install)" 0 1
fi
