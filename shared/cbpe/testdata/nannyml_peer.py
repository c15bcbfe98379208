"""NannyML's CBPE on the windows of the Go peer test (cbpe_test.go).

Usage: nannyml_peer.py REFERENCE.csv WINDOWS.csv

REFERENCE.csv has columns p (probability) and y (outcome); WINDOWS.csv has
window (a number) and p. Each window is estimated as one chunk. Prints a
JSON list, one object per window in order: roc_auc, sampling_error, lower,
upper; and whether NannyML would have calibrated on its own.

NannyML decides per reference whether to calibrate, by comparing the
expected calibration error with and without isotonic calibration over ten
random splits; claimrisk always calibrates. The test makes NannyML
calibrate too, so that both run the same estimator, and reports what
NannyML would have decided.
"""

import json
import os
import sys
import warnings

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
warnings.simplefilter("ignore")

import pandas as pd  # noqa: E402
from nannyml.calibration import IsotonicCalibrator, needs_calibration  # noqa: E402
from nannyml.performance_estimation.confidence_based import CBPE, cbpe  # noqa: E402

reference = pd.read_csv(sys.argv[1])
windows = pd.read_csv(sys.argv[2])
reference["y_pred"] = (reference["p"] >= 0.5).astype(int)
windows["y_pred"] = (windows["p"] >= 0.5).astype(int)
own_decision = bool(needs_calibration(reference["y"].to_numpy(), reference["p"].to_numpy(), IsotonicCalibrator()))
cbpe.needs_calibration = lambda *args, **kwargs: True

out = []
for _, window in windows.groupby("window", sort=True):
    estimator = CBPE(
        y_pred_proba="p",
        y_pred="y_pred",
        y_true="y",
        problem_type="classification_binary",
        metrics=["roc_auc"],
        chunk_size=len(window),
    )
    estimator.fit(reference.copy())
    result = estimator.estimate(window[["p", "y_pred"]].reset_index(drop=True)).filter(period="analysis").to_df()
    auc = result["roc_auc"].iloc[0]
    out.append(
        {
            "roc_auc": float(auc["value"]),
            "sampling_error": float(auc["sampling_error"]),
            "lower": float(auc["lower_confidence_boundary"]),
            "upper": float(auc["upper_confidence_boundary"]),
        }
    )
print(json.dumps({"windows": out, "nannyml_would_calibrate": own_decision}))
