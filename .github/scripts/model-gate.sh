#!/usr/bin/env bash
# The model-quality gate of the CI/CD example (.github/workflows/model-ci.yml):
# train on a fixed dataset with the real train function and fail when the
# accident-aware GLM ranks worse out of time than GINI_FLOOR allows.
#
#   .github/scripts/model-gate.sh        after `make build`
#
# Environment (all optional):
#   GINI_FLOOR  lowest acceptable out-of-time Gini of glm-accident (default 0.35)
#   SEED        seed of the fixed dataset (default 42, the workshop's data)
#   POLICIES    policies in the fixed dataset (default 40000)
#   PORT        loopback port for the train function (default 18791)
#   BIN         where claimrisk and train are (default bin)
#
# It needs no broker, registry or MLflow: the upload sends its event straight
# to the train function, which answers with the trained model. Everything
# goes into a temporary bucket that is removed at the end.
set -euo pipefail
GINI_FLOOR=${GINI_FLOOR:-0.35}
SEED=${SEED:-42}
POLICIES=${POLICIES:-40000}
PORT=${PORT:-18791}
BIN=${BIN:-bin}

work=$(mktemp -d)
train_pid=""
cleanup() {
	if [[ -n "$train_pid" ]]; then kill "$train_pid" 2>/dev/null || true; wait "$train_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
bucket="file://$work/bucket"

"$BIN/claimrisk" data generate --seed "$SEED" --policies "$POLICIES" --out "$work/data" 2>/dev/null

LISTEN_ADDRESS="127.0.0.1:$PORT" CLAIMRISK_BUCKET="$bucket" MLFLOW_TRACKING_URI= "$BIN/train" >"$work/train.log" 2>&1 &
train_pid=$!
for _ in $(seq 120); do
	curl -sf "http://127.0.0.1:$PORT/health/readiness" >/dev/null && break
	kill -0 "$train_pid" 2>/dev/null || { echo "model gate: the train function exited:" >&2; cat "$work/train.log" >&2; exit 1; }
	sleep 0.5
done

"$BIN/claimrisk" data upload --dir "$work/data" --bucket "$bucket" --sink "http://127.0.0.1:$PORT" 2>/dev/null

"$BIN/claimrisk" runs list --json --bucket "$bucket" >"$work/runs.json"
python3 - "$work/runs.json" "$GINI_FLOOR" <<'PY'
import json, sys

with open(sys.argv[1]) as f:
    runs = {r["kind"]: r["metrics"] for r in json.load(f)}
floor = float(sys.argv[2])
if "glm-accident" not in runs:
    sys.exit("model gate: no glm-accident run was trained")
for kind in ("legacy", "glm-base", "glm-accident"):
    if kind in runs:
        m = runs[kind]
        print(f"model gate: {kind:12} out-of-time Gini {m['gini']:.4f}  AUC {m['auc']:.4f}  log loss {m['log_loss']:.4f}")
gini = runs["glm-accident"]["gini"]
if gini < floor:
    sys.exit(f"model gate: FAIL: glm-accident's out-of-time Gini {gini:.4f} is below the floor {floor}")
print(f"model gate: pass: glm-accident's out-of-time Gini {gini:.4f} is at least {floor}")
PY
