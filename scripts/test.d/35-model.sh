# The loom models of the channel's memory orderings (tests/model, spec §10.5
# and §10.6): the reference models pass and each ordering mutant fails.
# Rust, built with cargo into ~/.cache/zinc-model-target (outside the
# checkout, so a fresh clone reuses loom's build): the first run on a machine
# fetches loom and its crates from crates.io and builds them and the models
# once (the mutants are chosen at run time), about 1.5 min on 2 shared CPUs;
# later runs take about 10 s, a fresh clone about 25 s. Without
# cargo the stage fails: it is part of the suite, not an optional extra
# (docs/testing.md, "Memory ordering under a model checker (loom)").
# stage-timeout: 600
zinc_log "model (loom)"
model_log="$ZINC_ROOT/build/model-run.log"
mkdir -p "$ZINC_ROOT/build"
if ! command -v cargo > /dev/null && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
  echo "cargo is not installed: the loom models (tests/model) need a Rust toolchain"
  zinc_count "model (loom)" 0 1
else
  model_started=$SECONDS
  "$ZINC_ROOT/tests/model/run" 2>&1 | tee "$model_log"
  model_rc=${PIPESTATUS[0]}
  model_summary="$(tail -n 1 "$model_log")"
  if [[ "$model_summary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    model_passed="${BASH_REMATCH[1]}"
    model_failed="${BASH_REMATCH[2]}"
    if [ "$model_rc" -ne 0 ] && [ "$model_failed" -eq 0 ]; then model_failed=1; fi
    zinc_count "model (loom)" "$model_passed" "$model_failed" "$((SECONDS - model_started)) s"
  else
    echo "tests/model/run ended without its summary line (exit status $model_rc)"
    zinc_count "model (loom)" 0 1
  fi
fi
