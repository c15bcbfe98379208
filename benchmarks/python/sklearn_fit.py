"""The training benchmark's peer: scikit-learn's LogisticRegression on the GLM's design.

    sklearn_fit.py DIR L2 TOL

DIR holds train_x.npy (rows by features, the standardised design the Go fit
uses), train_y.npy, valid_x.npy and valid_y.npy. The fit is lbfgs with
C = 1/L2, scikit-learn's objective being C * sum(loss) + ||w||^2 / 2, the
Go objective divided by L2 (see shared/training/peer_test.go). TOL is
lbfgs's tol (scikit-learn's default is 1e-4). Prints JSON: the fit's wall
time, iterations, intercept, coefficients and the validation AUC.
"""

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score


def main() -> None:
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    d, l2, tol = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    x, y = np.load(d / "train_x.npy"), np.load(d / "train_y.npy")
    xv, yv = np.load(d / "valid_x.npy"), np.load(d / "valid_y.npy")
    model = LogisticRegression(C=1.0 / l2, solver="lbfgs", tol=tol, max_iter=10000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(x, y)
        seconds = time.perf_counter() - start
    p = model.predict_proba(xv)[:, 1]
    json.dump(
        {
            "seconds": seconds,
            "iterations": int(model.n_iter_[0]),
            "intercept": float(model.intercept_[0]),
            "coef": [float(c) for c in model.coef_[0]],
            "auc": float(roc_auc_score(yv, p)),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
