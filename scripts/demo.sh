#!/usr/bin/env bash
# make demo: the story so far, on one machine. Starts the train function (and
# an MLflow server when the Python environment has one), generates the
# insurer's data, uploads it, and lists the runs the train function made.
set -euo pipefail
cd "$(dirname "$0")/.."
HOME_DIR="${CLAIMRISK_HOME:-$HOME/.claimrisk}"
export CLAIMRISK_BUCKET="${CLAIMRISK_BUCKET:-$HOME_DIR/bucket}"
TRAIN_ADDR=127.0.0.1:8701
MLFLOW_PORT=5050
LOGS="$HOME_DIR/logs"
mkdir -p "$LOGS"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_for() { # url seconds name
  for _ in $(seq 1 $(( $2 * 10 ))); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "demo: $3 did not start; see $LOGS/$3.log" >&2; exit 1
}

if [ -x .venv/bin/mlflow ]; then
  echo "== starting MLflow on http://127.0.0.1:$MLFLOW_PORT"
  mkdir -p "$HOME_DIR/mlflow"
  .venv/bin/mlflow server --backend-store-uri "sqlite:///$HOME_DIR/mlflow/mlflow.db" \
    --artifacts-destination "$HOME_DIR/mlflow/artifacts" --host 127.0.0.1 --port $MLFLOW_PORT --workers 1 \
    > "$LOGS/mlflow.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$MLFLOW_PORT/health" 120 mlflow
  export MLFLOW_TRACKING_URI="http://127.0.0.1:$MLFLOW_PORT"
else
  echo "== no MLflow in .venv (make venv); training runs without it"
fi

echo "== starting the train function on http://$TRAIN_ADDR"
LISTEN_ADDRESS=$TRAIN_ADDR bin/train > "$LOGS/train.log" 2>&1 &
pids+=($!)
wait_for "http://$TRAIN_ADDR/health/readiness" 30 train

echo "== generating the insurer's data"
bin/claimrisk data generate --out "$HOME_DIR/data"
echo "== uploading it; the train function fits the legacy baseline and two GLMs"
bin/claimrisk data upload --dir "$HOME_DIR/data" --sink "http://$TRAIN_ADDR"
echo "== runs"
bin/claimrisk runs list
cat <<MSG

Where to look:
  bucket:        $CLAIMRISK_BUCKET   (bin/claimrisk runs list --json)
  train log:     $LOGS/train.log
MSG
if [ -n "${MLFLOW_TRACKING_URI:-}" ]; then
  echo "  MLflow:        $MLFLOW_TRACKING_URI (stopped with the demo; its data stays in $HOME_DIR/mlflow)"
fi
