"""Fit scikit-learn's LogisticRegression on a design matrix written by the Go
peer test and print its coefficients and validation AUC as JSON.

Usage: sklearn_peer.py TRAIN.csv VALID.csv L2
Each CSV has feature columns x0..x{p-1} and the label column y.
"""

import json
import sys

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score


def main() -> None:
    train_path, valid_path, l2 = sys.argv[1], sys.argv[2], float(sys.argv[3])
    train, valid = pd.read_csv(train_path), pd.read_csv(valid_path)
    xcols = [c for c in train.columns if c != "y"]
    # sklearn minimises C * sum(loss) + ||w||^2 / 2, the Go objective with C = 1/L2.
    model = LogisticRegression(C=1.0 / l2, solver="lbfgs", tol=1e-12, max_iter=100000)
    model.fit(train[xcols].to_numpy(), train["y"].to_numpy())
    p = model.predict_proba(valid[xcols].to_numpy())[:, 1]
    json.dump(
        {
            "intercept": float(model.intercept_[0]),
            "coef": [float(c) for c in model.coef_[0]],
            "auc": float(roc_auc_score(valid["y"].to_numpy(), p)),
            "n_iter": int(model.n_iter_[0]),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
