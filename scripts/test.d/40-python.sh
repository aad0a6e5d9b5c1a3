# The Python adapter: installs ./python into .venv the way a user does (pip
# install, not editable: scikit-build-core builds libzinc_core with CMake and
# puts it and zinc.h into the package), then runs python/tests against that
# installed package, including mypy --strict, on ZINC_PYTEST_WORKERS pytest
# workers (pytest-xdist; default 2). The install is skipped when nothing it is
# built from changed since the last one. The sdist and the wheels come from
# zinc_python_dist (scripts/lib-python.sh): scripts/test starts making them
# before stage 10, and they are kept per sources hash outside the checkout;
# tests/test_packaging.py, run last, installs them into fresh virtualenvs.
# The bound covers waiting for the wheels on a new machine.
# stage-timeout: 2400

zinc_log "python: install"
mkdir -p "$ZINC_ROOT/build"
if zinc_python_install; then
  # scripts/test runs stages from the repository root. Temporary folders
  # under the checkout (ccache's base_dir): test_packaging.py's builds of the
  # sdist then reuse the cache too.
  mkdir -p "$ZINC_ROOT/build/tmp"
  python_tests() {  # stage-name dist-folder-or-empty pytest-arguments...
    local stage="$1" dist="$2"
    shift 2
    zinc_pytest "$stage" env -u ZINC_LIBRARY ZINC_TEST_INSTALLED=1 HYPOTHESIS_PROFILE=ci \
      TMPDIR="$ZINC_ROOT/build/tmp" ${dist:+ZINC_TEST_DIST="$dist"} \
      "$ZINC_VENV/bin/python" -m pytest -p no:cacheprovider -n "${ZINC_PYTEST_WORKERS:-2}" "$@"
    zinc_sweep_test_objects
  }
  # Everything but the distributions' tests first: meanwhile the early start
  # may still be making the wheels.
  python_tests "python" "" python/tests --ignore=python/tests/test_packaging.py --durations=8
  # The channel tests again with zinc._frames' Python classes in place of
  # zinc._fastpath's C ones (the fallback where the module does not import).
  ZINC_NO_FASTPATH=1 python_tests "python (Python frames)" "" python/tests/test_channel_*.py \
    --ignore=python/tests/test_channel_bench_smoke.py
  zinc_log "python: the distributions"
  if zinc_python_dist; then
    python_tests "python packaging" "$(zinc_python_dist_dir)" python/tests/test_packaging.py \
      --durations=4
  else
    zinc_count "python (scripts/wheel)" 0 1
  fi
else
  zinc_count "python (install)" 0 1
fi
