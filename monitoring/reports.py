"""Evidently reports for one window of the payload log.

A window gives up to two Evidently runs (snapshots):

- drift, on every prediction in the window: data drift of the feature
  columns, prediction drift of the probability, a data summary, the row
  count, the mean predicted probability, and the mean predicted
  probability of each group of the protected attribute (fairness);
- quality, on the labelled predictions only and only when there are any:
  ROC AUC and log loss with the probability as the score, target drift of
  the claim, the observed claim rate, the mean predicted probability and
  the number of labelled rows.

The two need different current datasets (all rows, labelled rows), which is
why they are separate runs; for people they are rendered as one HTML
report. Column types are always declared (see contract.py) so that
Evidently picks the same default test per column as the Go drift function.

The group means are measured on derived columns, one per group with rows in
the window (contract.group_column: probability_f holds the probability
where the customer is F, else nothing), declared numerical and measured with
MeanValue, which takes pandas' mean and so skips the missing values. They
are not drift columns: the drift preset keeps to contract.FEATURES, so
neither its tests nor their verdicts change. The protected attribute
itself never enters a dataset. A group without rows in the window gets no
column and no metric: its mean would be NaN. The data summary's
dataset-wide figures (column count, missing values, empty columns) do count
the derived columns, since Evidently computes them over the whole dataset.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import evidently
import pandas as pd
from evidently import BinaryClassification, DataDefinition, Dataset, Report
from evidently.core.metric_types import metric_tests_widget
from evidently.core.report import Snapshot, metric_tests_stats
from evidently.metrics import CategoryCount, LogLoss, MeanValue, RocAuc, RowCount, ValueDrift
from evidently.presets import DataDriftPreset, DataSummaryPreset
from evidently.presets.dataset_stats import ValueStatsTests

from monitoring import contract
from monitoring.contract import Window
from monitoring.payload import Current
from monitoring.errors import MonitoringError
from monitoring.summary import (
    ColumnType,
    ColumnVerdict,
    DatasetDrift,
    Estimate,
    Fairness,
    GroupFigures,
    Quality,
    Role,
    Summary,
)

# Snapshot tags: dashboard panels select their series by them.
DRIFT_TAG = "drift"
QUALITY_TAG = "quality"

_FAILED = "FAIL"  # the status of an Evidently test whose condition was crossed


@dataclass(frozen=True)
class WindowRuns:
    """The Evidently runs of one window; quality is None when no row is labelled,
    drift None for a quality-only run."""

    drift: Snapshot | None
    quality: Snapshot | None
    drift_share: float = contract.DATASET_DRIFT_SHARE
    estimate: Estimate | None = None

    @property
    def snapshots(self) -> list[Snapshot]:
        """The runs that exist, drift first."""
        return [run for run in (self.drift, self.quality) if run is not None]


def run(
    reference: pd.DataFrame,
    current: Current,
    window: Window,
    metadata: Mapping[str, str],
    drift_share: float = contract.DATASET_DRIFT_SHARE,
    estimate: Estimate | None = None,
    quality_only: bool = False,
) -> WindowRuns:
    """Run the drift report and, when labels exist, the quality report for a window.

    drift_share is the dataset threshold: the share of drifted feature
    columns at which the window counts as drifted, as the Go drift function
    decides it. estimate, the drift function's CBPE estimate for the window,
    is added to the drift run as derived columns (contract.ESTIMATE_FIELDS)
    measured with MeanValue, so that the dashboard plots it beside the
    realised ROC AUC of the quality run. quality_only runs the quality
    report alone (for a window whose outcomes arrived late) and fails
    without labelled rows.

    The snapshots carry the window's end as their timestamp (naive UTC, as
    Evidently's own timestamps are naive), so that successive windows form
    a time series in a workspace.
    """
    timestamp = window.end.astimezone(UTC).replace(tzinfo=None)
    meta = dict(metadata)
    groups = groups_in(current.rows)
    group_columns = [contract.group_column(group) for group in groups]
    estimate_columns = list(contract.ESTIMATE_FIELDS) if estimate is not None else []
    with _quiet():
        drift = None
        if not quality_only:
            drift_definition = _definition(
                [*contract.NUMERICAL_FEATURES, contract.PREDICTION, *group_columns, *estimate_columns],
                contract.CATEGORICAL_FEATURES,
            )
            drift = _drift_report([*group_columns, *estimate_columns], drift_share).run(
                _dataset(_with_estimate(_with_group_columns(current.rows, groups), estimate), drift_definition),
                _dataset(_with_estimate(_with_group_columns(reference, groups), estimate), drift_definition),
                timestamp=timestamp,
                metadata=meta,
                tags=[DRIFT_TAG],
                name=f"drift {window.id}",
            )
        labelled = current.labelled
        if quality_only and labelled.empty:
            raise MonitoringError(f"window {window.id} has no labelled predictions yet: nothing for --quality-only")
        quality = None
        if not labelled.empty:
            quality_definition = _definition(
                [contract.PREDICTION],
                [contract.TARGET],
                classification=[
                    BinaryClassification(
                        target=contract.TARGET,
                        prediction_probas=contract.PREDICTION,
                        pos_label=contract.POSITIVE_CLASS,
                    )
                ],
            )
            quality = _quality_report(labelled).run(
                _dataset(labelled, quality_definition),
                _dataset(reference, quality_definition),
                timestamp=timestamp,
                metadata=meta,
                tags=[QUALITY_TAG],
                name=f"quality {window.id}",
            )
    return WindowRuns(drift=drift, quality=quality, drift_share=drift_share, estimate=estimate)


def _with_estimate(frame: pd.DataFrame, estimate: Estimate | None) -> pd.DataFrame:
    """frame with each estimated figure as a column holding it on every row (nothing without an estimate)."""
    if estimate is None:
        return frame
    return frame.assign(**{column: getattr(estimate, field) for column, field in contract.ESTIMATE_FIELDS.items()})


def _definition(
    numerical: Sequence[str],
    categorical: Sequence[str],
    classification: list[BinaryClassification] | None = None,
) -> DataDefinition:
    """Declare every column's type, so that Evidently infers none.

    Each kind is given, if only as an empty list, and datasets hold only the
    declared columns: with a kind left as None, Evidently would infer a type
    for every undeclared column (an integer with at most ten distinct values
    becoming categorical, a string with mostly distinct values text).
    """
    return DataDefinition(
        numerical_columns=list(numerical),
        categorical_columns=list(categorical),
        text_columns=[],
        datetime_columns=[],
        unknown_columns=[],
        list_columns=[],
        classification=classification,
    )


def attribute(frame: pd.DataFrame) -> pd.Series:
    """The protected attribute of each row; all missing when frame was not joined with the attributes."""
    if contract.PROTECTED_ATTRIBUTE in frame.columns:
        return frame[contract.PROTECTED_ATTRIBUTE].astype("string")
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def groups_in(frame: pd.DataFrame) -> list[str]:
    """The groups of the protected attribute with at least one row in frame, in contract order."""
    present = set(attribute(frame).dropna())
    return [group for group in contract.GROUPS if group in present]


def _with_group_columns(frame: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    """frame with each group's derived column: the probability where the row is in the group, else NaN."""
    of = attribute(frame)
    return frame.assign(
        **{
            contract.group_column(group): frame[contract.PREDICTION].where((of == group).fillna(False).astype(bool))
            for group in groups
        }
    )


def _dataset(frame: pd.DataFrame, definition: DataDefinition) -> Dataset:
    """The declared columns of frame, and nothing else, as an Evidently dataset."""
    columns = [*(definition.numerical_columns or []), *(definition.categorical_columns or [])]
    return Dataset.from_pandas(frame[columns].reset_index(drop=True), data_definition=definition)


def _drift_report(group_columns: Sequence[str], drift_share: float) -> Report:
    """Default per-column tests (no method given); only the drift tests are kept as tests.

    The group means get no tests (tests=[]): with a reference, MeanValue
    would otherwise test the window's mean against the reference's.
    """
    summary_columns = [*contract.FEATURES, contract.PREDICTION]
    return Report(
        [
            DataDriftPreset(columns=list(contract.FEATURES), drift_share=drift_share),
            ValueDrift(column=contract.PREDICTION),
            RowCount(tests=[]),
            MeanValue(column=contract.PREDICTION, tests=[]),
            *(MeanValue(column=column, tests=[]) for column in group_columns),
            _summary_preset(summary_columns),
        ],
        include_tests=True,
    )


def _summary_preset(columns: list[str]) -> DataSummaryPreset:
    """A data summary without tests of its own.

    Every test is switched off by an explicit empty list: in Evidently 0.7.23
    DataSummaryPreset(include_tests=False) fails while rendering (it looks up
    its per-column metrics with the tests it was given, not the empty lists
    it generated them with), and the default tests would compare the
    window's row count and column statistics with the reference's, which
    fail for any window shorter than the reference period.
    """
    no_tests: list[Any] = []
    per_column = ValueStatsTests(**{f.name: no_tests for f in fields(ValueStatsTests)})
    return DataSummaryPreset(
        columns=columns,
        row_count_tests=no_tests,
        column_count_tests=no_tests,
        duplicated_row_count_tests=no_tests,
        duplicated_column_count_tests=no_tests,
        almost_duplicated_column_count_tests=no_tests,
        almost_constant_column_count_tests=no_tests,
        empty_row_count_tests=no_tests,
        empty_column_count_tests=no_tests,
        constant_columns_count_tests=no_tests,
        dataset_missing_value_count_tests=no_tests,
        column_tests={column: per_column for column in columns},
    )


def _quality_report(labelled: pd.DataFrame) -> Report:
    """ROC AUC needs both outcomes among the labelled rows; log loss is always defined."""
    both_outcomes = labelled[contract.TARGET].nunique() == 2
    metrics: list[Any] = [RocAuc(tests=[])] if both_outcomes else []
    metrics += [
        LogLoss(tests=[]),
        ValueDrift(column=contract.TARGET),
        CategoryCount(column=contract.TARGET, category=contract.POSITIVE_CLASS, tests=[], share_tests=[]),
        MeanValue(column=contract.PREDICTION, tests=[]),
        labelled_count(),
    ]
    return Report(metrics, include_tests=True)


def dataset_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    numerical: Sequence[str],
    categorical: Sequence[str],
    drift_share: float = contract.DATASET_DRIFT_SHARE,
) -> DatasetDrift:
    """Evidently's dataset verdict over the given columns, as the drift report
    computes it: DataDriftPreset with the columns' types declared and the
    default per-column tests, and drift_share as the threshold."""
    columns = [*numerical, *categorical]
    definition = _definition(numerical, categorical)
    with _quiet():
        snapshot = Report([DataDriftPreset(columns=columns, drift_share=drift_share)], include_tests=True).run(
            _dataset(current, definition), _dataset(reference, definition)
        )
    exported = _Exported(snapshot)
    counted = exported.value("DriftedColumnsCount")
    return DatasetDrift(
        columns=columns,
        drifted_columns=int(counted["count"]),
        share=float(counted["share"]),
        threshold=drift_share,
        drifted=exported.failed("DriftedColumnsCount"),
    )


def labelled_count() -> CategoryCount:
    """The number of labelled rows, as the rows with either outcome.

    Not a RowCount: the local workspace storage of Evidently 0.7.23 matches
    a point to the first panel series with the same metric and labels and
    only then checks the tags, so a RowCount of the quality run would be
    hidden behind the RowCount of the drift run in a shared panel.
    """
    return CategoryCount(column=contract.TARGET, categories=[0, contract.POSITIVE_CLASS], tests=[], share_tests=[])


@contextmanager
def _quiet() -> Iterator[None]:
    """Evidently's calculations warn about things a monitoring run cannot act on
    (sklearn's undefined precision, pandas deprecations); keep the output readable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def summarize(
    runs: WindowRuns,
    reference: pd.DataFrame,
    current: Current,
    window: Window,
    *,
    bucket: str,
    reference_key: str,
    report_key: str,
) -> Summary:
    """The machine-readable summary of a window, read from the runs' exported results."""
    if runs.drift is None:
        raise ValueError("a quality-only run has no summary")
    drift = _Exported(runs.drift)
    verdicts = [drift.verdict(column, "feature") for column in contract.FEATURES]
    verdicts.append(drift.verdict(contract.PREDICTION, "prediction"))
    quality = None
    if runs.quality is not None:
        exported = _Exported(runs.quality)
        verdicts.append(exported.verdict(contract.TARGET, "target"))
        labelled = current.labelled
        quality = Quality(
            labelled_rows=len(labelled),
            roc_auc=exported.value_or_none("RocAuc"),
            log_loss=exported.value_or_none("LogLoss"),
            observed_claim_rate=float(exported.value("CategoryCount", column=contract.TARGET)["share"]),
            mean_probability=float(labelled[contract.PREDICTION].mean()),
        )
    counted = drift.value("DriftedColumnsCount")
    rows = current.rows
    return Summary(
        window_id=window.id,
        window_from=_iso(window.start),
        window_to=_iso(window.end),
        bucket=bucket,
        reference_key=reference_key,
        report_key=report_key,
        evidently_version=evidently.__version__,
        reference_rows=len(reference),
        current_rows=len(rows),
        labelled_rows=0 if quality is None else quality.labelled_rows,
        model_versions=sorted(int(v) for v in rows["model_version"].unique()),
        mean_probability=float(drift.value("MeanValue", column=contract.PREDICTION)),
        reference_mean_probability=float(reference[contract.PREDICTION].mean()),
        dataset_drift=DatasetDrift(
            columns=list(contract.FEATURES),
            drifted_columns=int(counted["count"]),
            share=float(counted["share"]),
            threshold=runs.drift_share,
            drifted=drift.failed("DriftedColumnsCount"),
        ),
        columns=verdicts,
        quality=quality,
        fairness=_fairness(drift, rows),
        estimate=runs.estimate,
    )


def _fairness(drift: _Exported, rows: pd.DataFrame) -> Fairness | None:
    """The groups' figures in the window: row counts from the rows, means from the drift run."""
    of = attribute(rows)
    if of.isna().all():
        return None
    groups = {}
    for group in contract.GROUPS:
        n = int((of == group).sum())
        mean = drift.value_or_none("MeanValue", column=contract.group_column(group)) if n else None
        groups[group] = GroupFigures(rows=n, mean_probability=mean)
    protected = groups[contract.PROTECTED_GROUP].mean_probability
    reference = groups[contract.REFERENCE_GROUP].mean_probability
    impact = protected / reference if protected is not None and reference else None
    lower, upper = contract.DISPARATE_IMPACT_LOWER, contract.DISPARATE_IMPACT_UPPER
    return Fairness(
        attribute=contract.PROTECTED_ATTRIBUTE,
        groups=groups,
        protected_group=contract.PROTECTED_GROUP,
        reference_group=contract.REFERENCE_GROUP,
        disparate_impact=impact,
        lower=lower,
        upper=upper,
        flagged=impact is not None and not lower <= impact <= upper,
        unknown_rows=int(of.isna().sum()),
    )


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Exported:
    """A snapshot's exported results (Snapshot.dict()), looked up by metric type and parameters."""

    def __init__(self, snapshot: Snapshot) -> None:
        exported = snapshot.dict()
        self._metrics: list[dict[str, Any]] = exported["metrics"]
        self._status: dict[str, str] = {}
        for test in exported["tests"]:
            metric_id = test["metric_config"]["metric_id"]
            # A metric with several tests failed if any of them failed.
            if self._status.get(metric_id) != _FAILED:
                self._status[metric_id] = test["status"]

    def _find(self, metric: str, **params: object) -> dict[str, Any] | None:
        for m in self._metrics:
            config = m["config"]
            if config["type"].rsplit(":", 1)[-1] == metric and all(config.get(k) == v for k, v in params.items()):
                return m
        return None

    def _get(self, metric: str, **params: object) -> dict[str, Any]:
        found = self._find(metric, **params)
        if found is None:
            raise LookupError(f"Evidently result {metric}{params or ''} not in the snapshot")
        return found

    def value(self, metric: str, **params: object) -> Any:
        return self._get(metric, **params)["value"]

    def value_or_none(self, metric: str, **params: object) -> float | None:
        found = self._find(metric, **params)
        return None if found is None else float(found["value"])

    def failed(self, metric: str, **params: object) -> bool:
        metric_id = self._get(metric, **params)["id"]
        if metric_id not in self._status:
            raise LookupError(f"Evidently ran no test for {metric}{params or ''}")
        return self._status[metric_id] == _FAILED

    def verdict(self, column: str, role: Role) -> ColumnVerdict:
        found = self._get("ValueDrift", column=column)
        config = found["config"]
        return ColumnVerdict(
            column=column,
            role=role,
            type=_column_type(column),
            test=str(config["method"]),
            score=float(found["value"]),
            threshold=float(config["threshold"]),
            drifted=self.failed("ValueDrift", column=column),
        )


def _column_type(column: str) -> ColumnType:
    numerical = (*contract.NUMERICAL_FEATURES, contract.PREDICTION)
    return "numerical" if column in numerical else "categorical"


def html(runs: WindowRuns) -> str:
    """One standalone HTML page with the widgets and tests of all runs of the window."""
    if runs.drift is None:
        raise ValueError("a quality-only run has no page")
    if runs.quality is None:
        single: str = runs.drift.get_html_str(as_iframe=False)
        return single
    drift, quality = runs.drift.to_snapshot_model(), runs.quality.to_snapshot_model()
    tests = runs.drift.tests_results + runs.quality.tests_results
    merged = drift.copy(
        update={
            "metric_results": {**drift.metric_results, **quality.metric_results},
            "top_level_metrics": drift.top_level_metrics + quality.top_level_metrics,
            "widgets": drift.widgets + quality.widgets,
            "tests_widgets": [metric_tests_stats(tests), metric_tests_widget(tests)],
        }
    )
    page: str = Snapshot.load_model(merged).get_html_str(as_iframe=False)
    return page
