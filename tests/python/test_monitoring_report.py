"""The report command on contract-exact data: per-column verdicts, quality, summary.json.

Two references exercise both sets of Evidently's default tests: one of 800
rows (K-S for numerical columns, chi-square for categorical ones) and one
of 3000 (normed Wasserstein and Jensen-Shannon). Each gets three one-week
windows: unchanged, drivers eight years older, and mileage multiplied by
1.609 (kilometres reported as miles). Expected scores are recomputed with
scipy 1.17, the library Evidently calls, from the definitions in
/work/shared/notes/drift-and-gonum.md, which the Go drift function follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chisquare, ks_2samp, wasserstein_distance
from test_monitoring_data import (
    UTC,
    Run,
    Shift,
    feedback_for,
    outcomes,
    policies,
    resample,
    run_report,
    write_feedback,
    write_predictions,
    write_reference,
)

from monitoring import contract

START = datetime(2025, 3, 3, tzinfo=UTC)
WEEK = timedelta(days=7)
SHIFTS = {"unchanged": Shift(), "older": Shift(age_years=8), "kilometres": Shift(mileage_factor=1.609)}
EXPECTED_DRIFT = {"unchanged": set(), "older": {"age"}, "kilometres": {"annual_mileage"}}
# Feedback so far: most of the first week, some of the second, none of the third.
LABELLED = {"unchanged": 150, "older": 60, "kilometres": 0}


@dataclass
class Case:
    """A reference, its windows as written to the bucket, and the report of each window."""

    reference: pd.DataFrame
    windows: dict[str, pd.DataFrame]
    runs: dict[str, Run]


def _build(root: Path, seed: int, reference_rows: int, window_rows: int, sampled: bool) -> Case:
    rng = np.random.default_rng(seed)
    reference = policies(rng, reference_rows, START - 8 * WEEK, START, tag="ref")
    key = write_reference(root, "run-1", reference, outcomes(rng, reference))
    windows, runs = {}, {}
    for i, (name, shift) in enumerate(SHIFTS.items()):
        start, end = START + i * WEEK, START + (i + 1) * WEEK
        if sampled:
            window = resample(rng, reference, window_rows, start, end, shift, tag=f"w{i}-")
        else:
            window = policies(rng, window_rows, start, end, shift, tag=f"w{i}-")
        write_predictions(root, window)
        labelled = window.iloc[: LABELLED[name]]
        if len(labelled):
            write_feedback(root, feedback_for(labelled, outcomes(rng, labelled)))
        windows[name] = window
    for i, name in enumerate(SHIFTS):
        runs[name] = run_report(root, key, START + i * WEEK, START + (i + 1) * WEEK)
    return Case(reference, windows, runs)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Case:
    """800 reference rows; each window a sample of 200 of them (see resample for why)."""
    return _build(tmp_path_factory.mktemp("small-bucket"), seed=7, reference_rows=800, window_rows=200, sampled=True)


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Case:
    """3000 reference rows; each window 1500 independent draws of the same population
    (distances of such draws stay well below 0.1: at most 0.082 over 30 seeds)."""
    return _build(tmp_path_factory.mktemp("large-bucket"), seed=8, reference_rows=3000, window_rows=1500, sampled=False)


def _verdicts(run: Run) -> dict[str, dict]:
    return {c["column"]: c for c in run.summary["columns"]}


def _drifted_features(run: Run) -> set[str]:
    return {c["column"] for c in run.summary["columns"] if c["role"] == "feature" and c["drifted"]}


@pytest.mark.parametrize("case", ["small", "large"])
@pytest.mark.parametrize("window", list(SHIFTS))
def test_drift_flags_exactly_the_changed_column(case: str, window: str, request: pytest.FixtureRequest) -> None:
    run = request.getfixturevalue(case).runs[window]
    assert run.status == 0, run.stdout
    assert _drifted_features(run) == EXPECTED_DRIFT[window]
    assert run.summary["dataset_drift"]["drifted_columns"] == len(EXPECTED_DRIFT[window])
    assert run.summary["dataset_drift"]["drifted"] is False  # one column of nine is below the 0.5 share


def test_unchanged_window_raises_no_column_at_all(small: Case, large: Case) -> None:
    for case in (small, large):
        assert [c["column"] for c in case.runs["unchanged"].summary["columns"] if c["drifted"]] == []


@pytest.mark.parametrize(
    ("case", "numerical", "categorical"),
    [
        ("small", "K-S p_value", "chi-square p_value"),
        ("large", "Wasserstein distance (normed)", "Jensen-Shannon distance"),
    ],
)
def test_default_test_follows_reference_size_and_declared_type(
    case: str, numerical: str, categorical: str, request: pytest.FixtureRequest
) -> None:
    verdicts = _verdicts(request.getfixturevalue(case).runs["unchanged"])
    for column in [*contract.NUMERICAL_FEATURES, contract.PREDICTION]:
        assert verdicts[column]["test"] == numerical, column
    # home_area and deductible are integers in the Parquet objects: declared
    # categorical, they must not get a numerical test (deductible, with four
    # values, would otherwise get chi-square on a small reference anyway).
    for column in contract.CATEGORICAL_FEATURES:
        assert verdicts[column]["test"] == categorical, column
        assert verdicts[column]["type"] == "categorical"


def test_small_reference_scores_match_scipy(small: Case) -> None:
    verdicts = _verdicts(small.runs["older"])
    ref, cur = small.reference, small.windows["older"]
    # Two-sample K-S p-value, scipy.stats.ks_2samp (exact mode below 10000 rows).
    assert verdicts["age"]["score"] == pytest.approx(ks_2samp(ref["age"], cur["age"]).pvalue, rel=1e-9)
    # Chi-square with the reference counts scaled to the window as expected counts, scipy.stats.chisquare.
    keys = sorted(set(ref["home_area"]) | set(cur["home_area"]))
    observed = cur["home_area"].value_counts().reindex(keys, fill_value=0)
    expected = ref["home_area"].value_counts().reindex(keys, fill_value=0) * len(cur) / len(ref)
    assert verdicts["home_area"]["score"] == pytest.approx(chisquare(observed, expected).pvalue, rel=1e-9)
    assert verdicts["age"]["threshold"] == verdicts["home_area"]["threshold"] == 0.05


def test_large_reference_scores_match_scipy(large: Case) -> None:
    verdicts = _verdicts(large.runs["kilometres"])
    ref, cur = large.reference, large.windows["kilometres"]
    # W1 over the reference's population standard deviation, scipy.stats.wasserstein_distance.
    normed = wasserstein_distance(ref["annual_mileage"], cur["annual_mileage"]) / np.std(ref["annual_mileage"])
    assert verdicts["annual_mileage"]["score"] == pytest.approx(normed, rel=1e-9)
    # Jensen-Shannon distance (natural log) of the category shares, scipy.spatial.distance.jensenshannon.
    keys = sorted(set(ref["vehicle_type"]) | set(cur["vehicle_type"]))
    shares = [frame["vehicle_type"].value_counts(normalize=True).reindex(keys, fill_value=0) for frame in (ref, cur)]
    assert verdicts["vehicle_type"]["score"] == pytest.approx(jensenshannon(*shares), rel=1e-9)
    assert verdicts["annual_mileage"]["threshold"] == verdicts["vehicle_type"]["threshold"] == 0.1


def test_verdict_agrees_with_score_and_threshold(small: Case, large: Case) -> None:
    """p-values drift below the threshold (K-S at it too), distances at or above it."""
    for case in (small, large):
        for run in case.runs.values():
            for c in run.summary["columns"]:
                if c["test"].endswith("p_value"):
                    drifted = (
                        c["score"] <= c["threshold"] if c["test"].startswith("K-S") else c["score"] < c["threshold"]
                    )
                else:
                    drifted = c["score"] >= c["threshold"]
                assert c["drifted"] is drifted, c


@pytest.mark.parametrize("window", list(SHIFTS))
def test_quality_appears_only_with_labelled_rows(small: Case, window: str) -> None:
    run = small.runs[window]
    labelled = LABELLED[window]
    assert run.summary["labelled_rows"] == labelled
    verdicts = _verdicts(run)
    if labelled == 0:
        assert run.summary["quality"] is None
        assert "claim" not in verdicts
        assert "RocAuc" not in run.html and "Drift in column 'claim'" not in run.html
        assert "quality: skipped, no labelled predictions" in run.stdout
        return
    quality = run.summary["quality"]
    assert quality["labelled_rows"] == labelled
    assert 0.0 < quality["roc_auc"] < 1.0
    assert quality["log_loss"] > 0.0
    rows = small.windows[window].iloc[:labelled]
    assert quality["mean_probability"] == pytest.approx(rows["probability"].mean())
    assert verdicts["claim"]["role"] == "target" and verdicts["claim"]["test"] == "Z-test p_value"
    assert "RocAuc" in run.html and "Drift in column 'claim'" in run.html


def test_summary_format(small: Case) -> None:
    summary = small.runs["older"].summary
    assert list(summary) == [
        "format", "window_id", "window_from", "window_to", "bucket", "reference_key", "report_key",
        "evidently_version", "reference_rows", "current_rows", "labelled_rows", "model_versions",
        "mean_probability", "reference_mean_probability", "dataset_drift", "columns", "quality",
    ]  # fmt: skip
    assert summary["format"] == "claimrisk.monitoring.summary/v1"
    assert summary["window_id"] == "20250310T000000Z-20250317T000000Z"
    assert (summary["window_from"], summary["window_to"]) == ("2025-03-10T00:00:00Z", "2025-03-17T00:00:00Z")
    assert summary["report_key"] == "drift/evidently/20250310T000000Z-20250317T000000Z/report.html"
    assert (summary["reference_rows"], summary["current_rows"]) == (800, 200)
    assert summary["model_versions"] == [2]
    assert summary["mean_probability"] == pytest.approx(small.windows["older"]["probability"].mean())
    assert [c["column"] for c in summary["columns"]] == [*contract.FEATURES, "probability", "claim"]
    assert all(
        list(c) == ["column", "role", "type", "test", "score", "threshold", "drifted"] for c in summary["columns"]
    )
    assert summary["dataset_drift"]["columns"] == list(contract.FEATURES)
    assert summary["dataset_drift"]["share"] == pytest.approx(1 / 9)
    assert summary["dataset_drift"]["threshold"] == 0.5


def test_progress_lines_and_outputs(small: Case) -> None:
    run = small.runs["kilometres"]
    lines = run.stdout.splitlines()
    assert [line.split(":")[0].split(" ")[0] for line in lines] == ["reference", "window", "drift", "quality", "wrote"]
    assert "drifted columns: annual_mileage" in lines[2]
    assert lines[-1].startswith("wrote drift/evidently/20250317T000000Z-20250324T000000Z/report.html and ")
    assert "<html" in run.html[:2000].lower()


def test_declared_types_are_not_reinferred() -> None:
    """Columns whose values would fool Evidently's inference keep their declared type.

    With eight distinct vehicle ages, inference would make vehicle_age
    categorical (chi-square); with 22 districts, home_area numerical (K-S).
    """
    from monitoring import reports
    from monitoring.contract import Window
    from monitoring.payload import Current

    rng = np.random.default_rng(41)
    window = Window(START, START + WEEK)
    reference = policies(rng, 500, START - 4 * WEEK, START, tag="ref").assign(claim=0)
    current = policies(rng, 200, window.start, window.end).assign(claim=pd.NA)
    for frame in (reference, current):
        frame["vehicle_age"] = frame["vehicle_age"] % 8
    rows = Current(current, objects=1, feedback_objects=0)
    runs = reports.run(reference, rows, window, {})
    summary = reports.summarize(runs, reference, rows, window, bucket="b", reference_key="r", report_key="k")
    tests = {c.column: (c.type, c.test) for c in summary.columns}
    assert tests["vehicle_age"] == ("numerical", "K-S p_value")
    assert tests["home_area"] == ("categorical", "chi-square p_value")
    assert tests["deductible"] == ("categorical", "chi-square p_value")


def test_one_outcome_only_gives_log_loss_but_no_roc_auc() -> None:
    from monitoring import reports
    from monitoring.contract import Window
    from monitoring.payload import Current

    rng = np.random.default_rng(42)
    window = Window(START, START + WEEK)
    reference = policies(rng, 300, START - 4 * WEEK, START, tag="ref")
    reference["claim"] = outcomes(rng, reference)
    rows = policies(rng, 100, window.start, window.end)
    rows["claim"] = pd.array([0] * 20 + [None] * 80, dtype="Int32")
    current = Current(rows, objects=1, feedback_objects=1)
    runs = reports.run(reference, current, window, {})
    quality = reports.summarize(runs, reference, current, window, bucket="b", reference_key="r", report_key="k").quality
    assert quality is not None
    assert (quality.labelled_rows, quality.roc_auc, quality.observed_claim_rate) == (20, None, 0.0)
    assert quality.log_loss is not None and quality.log_loss > 0
