"""Evidently's dataset verdict for the Go boundary test (driftcheck_test).

Usage: evidently_dataset.py REPO REFERENCE.csv CURRENT.csv DRIFT_SHARE

Every column of the CSV files is declared numerical. Prints the verdict of
monitoring.reports.dataset_drift, the function the Evidently job uses, as
JSON: drifted_columns, share, threshold, drifted.
"""

import json
import sys

sys.path.insert(0, sys.argv[1])

import pandas as pd  # noqa: E402

from monitoring import reports  # noqa: E402

reference = pd.read_csv(sys.argv[2])
current = pd.read_csv(sys.argv[3])
verdict = reports.dataset_drift(reference, current, list(reference.columns), [], float(sys.argv[4]))
print(json.dumps({"drifted_columns": verdict.drifted_columns, "share": verdict.share, "threshold": verdict.threshold, "drifted": verdict.drifted}))
