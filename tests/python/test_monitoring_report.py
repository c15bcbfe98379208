"""The report command on contract-exact data: per-column verdicts, quality, summary.json.

Two references exercise both sets of Evidently's default tests: one of 800
rows (K-S for numerical columns, chi-square for categorical ones) and one
of 3000 (normed Wasserstein and Jensen-Shannon). Each gets three one-week
windows: unchanged, drivers eight years older, and mileage multiplied by
1.609 (kilometres reported as miles). Expected scores are recomputed with
scipy 1.17, the library Evidently calls, from the definitions in
/work/shared/notes/drift-and-gonum.md, which the Go drift function follows.

The small case's bucket holds customer attributes (sex) for the reference
and most window customers, the large case's none at all. Expected fairness
figures follow shared/governance: each group's mean predicted probability
(pandas), and their ratio F over M as the disparate impact, flagged outside
[0.8, 1.25].
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
    sexes,
    write_attributes,
    write_feedback,
    write_predictions,
    write_reference,
)

from monitoring import contract
from monitoring.__main__ import _fairness_line

START = datetime(2025, 3, 3, tzinfo=UTC)
WEEK = timedelta(days=7)
SHIFTS = {"unchanged": Shift(), "older": Shift(age_years=8), "kilometres": Shift(mileage_factor=1.609)}
EXPECTED_DRIFT = {"unchanged": set(), "older": {"age"}, "kilometres": {"annual_mileage"}}
# Feedback so far: most of the first week, some of the second, none of the third.
LABELLED = {"unchanged": 150, "older": 60, "kilometres": 0}
# Window customers with a known sex, when the bucket holds attributes; the rest are unknown.
KNOWN_SHARE = 0.9


@dataclass
class Case:
    """A reference, its windows as written to the bucket, and the report of each window."""

    reference: pd.DataFrame
    windows: dict[str, pd.DataFrame]
    runs: dict[str, Run]
    sex: pd.Series  # customer -> sex, for the customers with an attribute object row


def _build(root: Path, seed: int, reference_rows: int, window_rows: int, sampled: bool, attributes: bool) -> Case:
    rng = np.random.default_rng(seed)
    # A generator of its own, so that the data (and so the drift verdicts) do not depend on attributes.
    attribute_rng = np.random.default_rng(seed + 100)
    reference = policies(rng, reference_rows, START - 8 * WEEK, START, tag="ref")
    key = write_reference(root, "run-1", reference, outcomes(rng, reference))
    known = [sexes(attribute_rng, reference)]
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
        known.append(sexes(attribute_rng, window.iloc[: int(KNOWN_SHARE * len(window))]))
    if attributes:
        write_attributes(root, "dataset-run-1", known[0])
        for i, rows in enumerate(known[1:]):
            write_attributes(root, f"traffic-{i}", rows)
    for i, name in enumerate(SHIFTS):
        runs[name] = run_report(root, key, START + i * WEEK, START + (i + 1) * WEEK)
    sex = pd.concat(known).set_index("customer")["sex"] if attributes else pd.Series(dtype=str)
    return Case(reference, windows, runs, sex)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Case:
    """800 reference rows; each window a sample of 200 of them (see resample for why); with attributes."""
    root = tmp_path_factory.mktemp("small-bucket")
    return _build(root, seed=7, reference_rows=800, window_rows=200, sampled=True, attributes=True)


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Case:
    """3000 reference rows; each window 1500 independent draws of the same population
    (distances of such draws stay well below 0.1: at most 0.082 over 30 seeds); no attribute objects."""
    root = tmp_path_factory.mktemp("large-bucket")
    return _build(root, seed=8, reference_rows=3000, window_rows=1500, sampled=False, attributes=False)


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
    assert run.summary["dataset_drift"]["drifted"] is False  # one column of nine is below the 0.3 share


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
        "mean_probability", "reference_mean_probability", "dataset_drift", "columns", "quality", "fairness",
        "estimate",
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
    assert summary["dataset_drift"]["threshold"] == contract.DATASET_DRIFT_SHARE == 0.3
    assert list(summary["fairness"]) == [
        "attribute", "groups", "protected_group", "reference_group", "disparate_impact", "lower", "upper", "flagged",
        "unknown_rows",
    ]  # fmt: skip
    assert {g: list(v) for g, v in summary["fairness"]["groups"].items()} == {
        "F": ["rows", "mean_probability"],
        "M": ["rows", "mean_probability"],
    }


def test_progress_lines_and_outputs(small: Case) -> None:
    run = small.runs["kilometres"]
    lines = run.stdout.splitlines()
    assert [line.split(":")[0].split(" ")[0] for line in lines] == [
        "reference", "window", "drift", "fairness", "quality", "wrote",
    ]  # fmt: skip
    assert "drifted columns: annual_mileage" in lines[2]
    f = run.summary["fairness"]
    f_rows, m_rows = f["groups"]["F"]["rows"], f["groups"]["M"]["rows"]
    assert lines[3].startswith(f"fairness: F {f_rows} rows mean {f['groups']['F']['mean_probability']:.4f}, M {m_rows} ")
    assert lines[3].endswith(f"20 unknown; disparate impact F/M {f['disparate_impact']:.3f} (within [0.80, 1.25])")
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


@pytest.mark.parametrize("window", list(SHIFTS))
def test_fairness_compares_the_groups_of_the_window(small: Case, window: str) -> None:
    run = small.runs[window]
    rows = small.windows[window]
    sex = rows["customer_id"].map(small.sex)
    # The groups' mean predicted probabilities by pandas, and their ratio F over M.
    means = {group: rows["probability"][sex == group].mean() for group in ("F", "M")}
    impact = means["F"] / means["M"]
    assert run.summary["fairness"] == {
        "attribute": "sex",
        "groups": {
            group: {"rows": int((sex == group).sum()), "mean_probability": pytest.approx(means[group], rel=1e-12)}
            for group in ("F", "M")
        },
        "protected_group": "F",
        "reference_group": "M",
        "disparate_impact": pytest.approx(impact, rel=1e-12),
        "lower": 0.8,
        "upper": 1.25,
        "flagged": not 0.8 <= impact <= 1.25,
        "unknown_rows": len(rows) - int(KNOWN_SHARE * len(rows)),
    }
    # Sex is neither a drift column nor a summary column; the group means are not drift columns either.
    assert [c["column"] for c in run.summary["columns"]][: len(contract.FEATURES)] == list(contract.FEATURES)
    assert not {"sex", "probability_f", "probability_m"} & {c["column"] for c in run.summary["columns"]}
    assert "Drift in column 'sex'" not in run.html and "Drift in column 'probability_f'" not in run.html


def test_group_means_are_measured_on_both_datasets(small: Case) -> None:
    """The report shows each group's mean in the window and in the reference: the reference was joined too."""
    run = small.runs["older"]
    for group in ("F", "M"):
        window = small.windows["older"]
        current = window["probability"][window["customer_id"].map(small.sex) == group].mean()
        ref = small.reference["probability"][small.reference["customer_id"].map(small.sex) == group].mean()
        column = contract.group_column(group)
        assert f"Mean value of '{column}': current: {current:.3f}, reference: {ref:.3f}" in run.html


def test_without_attribute_objects_fairness_is_null(large: Case) -> None:
    for run in large.runs.values():
        assert run.status == 0, run.stdout
        assert run.summary["fairness"] is None
        assert "fairness: skipped, no prediction joined with a customer attribute (0 objects under" in run.stdout
        assert "probability_f" not in run.html


def _joined(frame: pd.DataFrame, sex: pd.Series) -> pd.DataFrame:
    from monitoring.payload import Attributes

    return Attributes(sex.astype("string"), objects=1).join(frame)


def test_women_with_higher_probabilities_are_flagged_and_drift_verdicts_stay() -> None:
    from monitoring import reports
    from monitoring.contract import Window
    from monitoring.payload import Current

    rng = np.random.default_rng(43)
    window = Window(START, START + WEEK)
    reference = policies(rng, 500, START - 4 * WEEK, START, tag="ref").assign(claim=0)
    rows = policies(rng, 200, window.start, window.end).assign(claim=pd.NA)
    # Women are the riskier half of the window; in the reference, every other customer.
    risky = rows["probability"] > rows["probability"].median()
    sex = pd.concat(
        [
            pd.Series(np.where(np.arange(len(reference)) % 2 == 0, "F", "M"), index=reference["customer_id"]),
            pd.Series(np.where(risky, "F", "M"), index=rows["customer_id"]),
        ]
    )
    summaries = []
    for ref, cur in [(reference, rows), (_joined(reference, sex), _joined(rows, sex))]:
        current = Current(cur, objects=1, feedback_objects=0)
        runs = reports.run(ref, current, window, {})
        summaries.append(reports.summarize(runs, ref, current, window, bucket="b", reference_key="r", report_key="k"))
    plain, joined = summaries

    assert plain.fairness is None
    assert joined.columns == plain.columns
    assert joined.dataset_drift == plain.dataset_drift
    fairness = joined.fairness
    assert fairness is not None
    means = {"F": rows["probability"][risky].mean(), "M": rows["probability"][~risky].mean()}  # pandas
    assert fairness.groups["F"].mean_probability == pytest.approx(means["F"], rel=1e-12)
    assert fairness.disparate_impact == pytest.approx(means["F"] / means["M"], rel=1e-12)
    assert fairness.disparate_impact > 1.25
    assert fairness.flagged
    assert (fairness.groups["F"].rows, fairness.groups["M"].rows, fairness.unknown_rows) == (100, 100, 0)
    assert _fairness_line(fairness, 1).endswith("(FLAGGED, outside [0.80, 1.25])")


def test_a_group_without_rows_in_the_window_has_no_metric() -> None:
    """Only women in the window, and a reference without any attribute: no M metric, no disparate impact."""
    from monitoring import reports
    from monitoring.contract import Window
    from monitoring.payload import Current

    rng = np.random.default_rng(44)
    window = Window(START, START + WEEK)
    reference = policies(rng, 300, START - 4 * WEEK, START, tag="ref").assign(claim=0)
    rows = policies(rng, 100, window.start, window.end).assign(claim=pd.NA)
    sex = pd.Series("F", index=rows["customer_id"].iloc[:70])
    current = Current(_joined(rows, sex), objects=1, feedback_objects=0)
    runs = reports.run(_joined(reference, sex), current, window, {})
    summary = reports.summarize(runs, reference, current, window, bucket="b", reference_key="r", report_key="k")

    means = [m["config"]["column"] for m in runs.drift.dict()["metrics"] if m["config"]["type"].endswith(":MeanValue")]
    assert "probability_f" in means and "probability_m" not in means
    fairness = summary.fairness
    assert fairness is not None
    assert fairness.groups["F"].rows == 70
    assert fairness.groups["F"].mean_probability == pytest.approx(rows["probability"].iloc[:70].mean(), rel=1e-12)
    assert (fairness.groups["M"].rows, fairness.groups["M"].mean_probability) == (0, None)
    assert (fairness.disparate_impact, fairness.flagged, fairness.unknown_rows) == (None, False, 30)
    assert '"disparate_impact": null' in summary.to_json()
    assert _fairness_line(fairness, 1) == (
        f"fairness: F 70 rows mean {fairness.groups['F'].mean_probability:.4f}, M 0 rows, 30 unknown; "
        "no disparate impact F/M without rows of both groups"
    )


def test_estimate_is_plotted_beside_the_realised_auc() -> None:
    """The drift function's CBPE estimate goes into the drift run as the means of
    derived columns (one value on every row) and into summary.json; a
    quality-only run, for outcomes that arrived late, has the quality run alone."""
    from monitoring import reports
    from monitoring.contract import Window
    from monitoring.payload import Current
    from monitoring.reports import _Exported
    from monitoring.summary import Estimate

    rng = np.random.default_rng(43)
    window = Window(START, START + WEEK)
    reference = policies(rng, 300, START - 4 * WEEK, START, tag="ref")
    reference["claim"] = outcomes(rng, reference)
    rows = policies(rng, 120, window.start, window.end)
    rows["claim"] = pd.array(list(outcomes(rng, rows)), dtype="Int32")
    current = Current(rows, objects=1, feedback_objects=1)
    estimate = Estimate(roc_auc=0.6231, roc_auc_lower=0.571, roc_auc_upper=0.675, expected_claim_rate=0.0912)
    runs = reports.run(reference, current, window, {}, estimate=estimate)
    drift = _Exported(runs.drift)
    assert drift.value("MeanValue", column="estimated_roc_auc") == pytest.approx(0.6231)
    assert drift.value("MeanValue", column="estimated_roc_auc_upper") == pytest.approx(0.675)
    summary = reports.summarize(runs, reference, current, window, bucket="b", reference_key="r", report_key="k")
    assert summary.estimate == estimate
    assert [c.column for c in summary.columns][: len(contract.FEATURES)] == list(contract.FEATURES)
    late = reports.run(reference, current, window, {}, quality_only=True)
    assert late.drift is None and late.quality is not None and late.snapshots == [late.quality]
