"""summary.json: the machine-readable result of a drift check.

The Go drift function computes the same per-column tests as Evidently, and
a cross-check compares the two verdict by verdict, so the per-column
entries carry exactly what a verdict consists of: the column, the test
Evidently chose, its score and threshold, and whether the column drifted.
The fairness entry compares the groups of the protected attribute in the
window, as shared/governance does on the Go side.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Literal

FORMAT = "claimrisk.monitoring.summary/v1"

Role = Literal["feature", "prediction", "target"]
ColumnType = Literal["numerical", "categorical"]


@dataclass(frozen=True)
class ColumnVerdict:
    """Evidently's drift verdict for one column.

    For p-value tests (K-S, chi-square, Z-test) the column drifted when the
    score is below the threshold; for distances (Wasserstein, Jensen-Shannon)
    when it is at or above it. drifted is Evidently's own verdict.
    """

    column: str
    role: Role
    type: ColumnType
    test: str
    score: float
    threshold: float
    drifted: bool


@dataclass(frozen=True)
class DatasetDrift:
    """The share of drifted feature columns and Evidently's dataset verdict."""

    columns: list[str]
    drifted_columns: int
    share: float
    threshold: float
    drifted: bool


@dataclass(frozen=True)
class Quality:
    """Classification quality on the labelled rows of the window (probability as score)."""

    labelled_rows: int
    roc_auc: float | None
    log_loss: float | None
    observed_claim_rate: float
    mean_probability: float


@dataclass(frozen=True)
class Estimate:
    """The Go drift function's CBPE estimate for the window (from the predictions alone)."""

    roc_auc: float
    roc_auc_lower: float
    roc_auc_upper: float
    expected_claim_rate: float


@dataclass(frozen=True)
class GroupFigures:
    """One group of the protected attribute in the window; no mean without rows."""

    rows: int
    mean_probability: float | None


@dataclass(frozen=True)
class Fairness:
    """The groups of the protected attribute in the window, and their disparate impact.

    disparate_impact is the protected group's mean predicted probability over
    the reference group's, None when either group has no rows (or the
    reference group's mean is zero); flagged when it lies outside
    [lower, upper]. unknown_rows are the rows whose customer has no attribute.
    """

    attribute: str
    groups: dict[str, GroupFigures]
    protected_group: str
    reference_group: str
    disparate_impact: float | None
    lower: float
    upper: float
    flagged: bool
    unknown_rows: int


@dataclass(frozen=True)
class Summary:
    """Everything a script needs to know about one window."""

    window_id: str
    window_from: str
    window_to: str
    bucket: str
    reference_key: str
    report_key: str
    evidently_version: str
    reference_rows: int
    current_rows: int
    labelled_rows: int
    model_versions: list[int]
    mean_probability: float
    reference_mean_probability: float
    dataset_drift: DatasetDrift
    columns: list[ColumnVerdict]
    quality: Quality | None
    fairness: Fairness | None  # None when no row of the window could be joined with an attribute
    estimate: Estimate | None = None  # None when the report was run without --performance

    @property
    def drifted_columns(self) -> list[ColumnVerdict]:
        """The columns whose drift test fired."""
        return [c for c in self.columns if c.drifted]

    def to_json(self) -> str:
        """The summary as indented JSON; NaN and infinities become null."""
        return json.dumps(_finite({"format": FORMAT, **asdict(self)}), indent=2) + "\n"


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
