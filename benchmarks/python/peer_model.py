"""The serving benchmark's peer model: claimrisk's champion as a scikit-learn pipeline.

    peer_model.py build MODEL_JSON OUT_DIR
        writes OUT_DIR/mlflow (an MLflow sklearn model whose pyfunc answers
        predict_proba) and OUT_DIR/mlserver (model.joblib and
        model-settings.json for mlserver-sklearn) of the pipeline below, and
        the same two of the bare LogisticRegression, which takes the
        standardised design row instead (OUT_DIR/mlflow-row, mlserver-row)
    peer_model.py predict OUT_DIR RECORDS_JSON
        prints the pipeline's claim probabilities for the records, as JSON

The pipeline takes the prediction API's policy record (one row of a pandas
DataFrame with the request's columns) and computes the GLM's features with
standard scikit-learn transformers, in the order of the model's feature
spec: the record's numbers passed through; indicators (age < 25, fewer than
3 years licensed) as Binarizer on the negated value; max(0, age - 70) / 10
as a clip and a fixed StandardScaler; log(max(mileage, 100)) and
log(deductible) with numpy's log; one-hot columns for vehicle type, usage
and cover; and the area's accident figures (log(max(crash rate, 0.1)) and
the injury share, as in the spec's areas table) as a one-hot of the district
times the table. A StandardScaler with the spec's centre and scale and a
LogisticRegression with the GLM's intercept and coefficients follow, so the
pipeline computes the predict function's probability up to rounding.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import Binarizer, FunctionTransformer, OneHotEncoder, StandardScaler

# The prediction API's record, with the dtypes the API's JSON gives.
RECORD_DTYPES = {
    "policy_id": "object",
    "customer_id": "object",
    "age": "float64",
    "years_licensed": "float64",
    "home_area": "int64",
    "vehicle_type": "object",
    "vehicle_age": "int64",
    "usage": "object",
    "annual_mileage": "float64",
    "coverage": "object",
    "deductible": "int64",
}

# One-hot groups: the features' prefix, the record column, the levels in
# the spec's column order (the first level of each column is the baseline).
ONE_HOT = {
    "vehicle_": ("vehicle_type", ["suv", "pickup", "van", "sports"]),
    "usage_": ("usage", ["commute", "business"]),
    "coverage_": ("coverage", ["standard", "comprehensive"]),
}


def fixed_scaler(mean: float | list[float], scale: float | list[float]) -> StandardScaler:
    """A StandardScaler that computes (x - mean) / scale without being fitted."""
    mean_a, scale_a = np.atleast_1d(np.asarray(mean, dtype=float)), np.atleast_1d(np.asarray(scale, dtype=float))
    s = StandardScaler()
    s.mean_, s.scale_, s.var_ = mean_a, scale_a, scale_a**2
    s.n_features_in_, s.n_samples_seen_ = len(mean_a), 1
    return s


def feature_steps(spec: dict) -> list[tuple[str, object, list[str]]]:
    """The ColumnTransformer steps that compute the spec's raw features in order."""
    names = spec["names"]
    steps: list[tuple[str, object, list[str]]] = []
    i = 0
    while i < len(names):
        name = names[i]
        group = next((p for p, (_, levels) in ONE_HOT.items() if name == p + levels[0]), None)
        if group is not None:
            column, levels = ONE_HOT[group]
            wanted = [group + lvl for lvl in levels]
            if names[i : i + len(wanted)] != wanted:
                raise SystemExit(f"peer_model: unexpected one-hot columns at {name}: {names[i:i+len(wanted)]}")
            steps.append((column, OneHotEncoder(categories=[levels], handle_unknown="ignore", sparse_output=False), [column]))
            i += len(wanted)
            continue
        if name == "log_crash_rate":
            if names[i : i + 2] != ["log_crash_rate", "injury_share"]:
                raise SystemExit("peer_model: log_crash_rate must be followed by injury_share")
            areas = sorted(int(a) for a in spec["areas"])
            table = np.array(
                [[np.log(max(spec["areas"][str(a)]["crash_rate"], 0.1)), spec["areas"][str(a)]["injury_share"]] for a in areas]
            )
            lookup = make_pipeline(
                OneHotEncoder(categories=[areas], handle_unknown="ignore", sparse_output=False),
                FunctionTransformer(np.dot, kw_args={"b": table}),
            )
            steps.append(("area", lookup, ["home_area"]))
            i += 2
            continue
        simple = {
            "age": ("passthrough", "age"),
            "age_under_25": (make_pipeline(FunctionTransformer(np.negative), Binarizer(threshold=-25.0)), "age"),
            "age_over_70": (
                make_pipeline(FunctionTransformer(np.clip, kw_args={"a_min": 70.0, "a_max": None}), fixed_scaler(70.0, 10.0)),
                "age",
            ),
            "novice": (make_pipeline(FunctionTransformer(np.negative), Binarizer(threshold=-3.0)), "years_licensed"),
            "log_mileage": (
                make_pipeline(FunctionTransformer(np.clip, kw_args={"a_min": 100.0, "a_max": None}), FunctionTransformer(np.log)),
                "annual_mileage",
            ),
            "vehicle_age": ("passthrough", "vehicle_age"),
            "log_deductible": (FunctionTransformer(np.log), "deductible"),
        }
        if name not in simple:
            raise SystemExit(f"peer_model: feature {name!r} (set {spec['set']}) has no scikit-learn equivalent here")
        transformer, column = simple[name]
        steps.append((name, transformer, [column]))
        i += 1
    return steps


def build_pipeline(m: dict) -> Pipeline:
    spec = m["features"]
    features = ColumnTransformer(feature_steps(spec), remainder="drop", verbose_feature_names_out=False)
    lr = LogisticRegression()
    lr.classes_ = np.array([0, 1])
    lr.coef_ = np.array([m["coef"]], dtype=float)
    lr.intercept_ = np.array([m["intercept"]], dtype=float)
    lr.n_features_in_ = len(m["coef"])
    lr.n_iter_ = np.array([0])
    pipe = Pipeline([("features", features), ("standardise", fixed_scaler(spec["center"], spec["scale"])), ("glm", lr)])
    # Fitting the ColumnTransformer records the columns; it also refits the
    # fixed scaler of age_over_70, which is set again afterwards.
    features.fit(example_frame())
    if "age_over_70" in features.named_transformers_:
        fixed = fixed_scaler(70.0, 10.0)
        scaler = features.named_transformers_["age_over_70"].steps[-1][1]
        scaler.mean_, scaler.scale_, scaler.var_ = fixed.mean_, fixed.scale_, fixed.var_
    return pipe


def example_frame() -> pd.DataFrame:
    rec = {
        "policy_id": "P1", "customer_id": "C1", "age": 40.0, "years_licensed": 20.0, "home_area": 1,
        "vehicle_type": "sedan", "vehicle_age": 5, "usage": "pleasure", "annual_mileage": 9000.0,
        "coverage": "liability", "deductible": 500,
    }  # fmt: skip
    return frame([rec])


def frame(records: list[dict]) -> pd.DataFrame:
    return pd.DataFrame.from_records(records, columns=list(RECORD_DTYPES)).astype(RECORD_DTYPES)


def save(model: object, example: pd.DataFrame | np.ndarray, out_dir: Path, suffix: str) -> None:
    """The model as an MLflow model and as an mlserver-sklearn model directory."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    signature = infer_signature(example, model.predict_proba(example))  # type: ignore[attr-defined]
    mlflow.sklearn.save_model(
        model, str(out_dir / f"mlflow{suffix}"), signature=signature, pyfunc_predict_fn="predict_proba",
        serialization_format="pickle",
    )  # fmt: skip
    (out_dir / f"mlserver{suffix}").mkdir(parents=True)
    joblib.dump(model, out_dir / f"mlserver{suffix}" / "model.joblib")
    settings = {
        "name": "claimrisk",
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": "v1", "extra": {"predict_fn": "predict_proba"}},
    }
    (out_dir / f"mlserver{suffix}" / "model-settings.json").write_text(json.dumps(settings, indent=2))


def build(model_json: str, out: str) -> None:
    import warnings

    warnings.simplefilter("ignore")
    m = json.loads(Path(model_json).read_text())
    pipe = build_pipeline(m)
    out_dir = Path(out)
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    save(pipe, example_frame(), out_dir, "")
    # The bare model takes a tensor of one standardised row, MLflow's
    # {"inputs": [[...]]} and a V2 FP64 input of shape [1, p].
    save(pipe.named_steps["glm"], np.zeros((1, len(m["coef"]))), out_dir, "-row")


def predict(out: str, records_json: str) -> None:
    pipe = joblib.load(Path(out) / "mlserver" / "model.joblib")
    records = json.loads(Path(records_json).read_text())
    json.dump([float(p) for p in pipe.predict_proba(frame(records))[:, 1]], sys.stdout)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "predict":
        predict(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
