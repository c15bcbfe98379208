"""The data contract between the Go functions and this Evidently job.

This is the one module that knows how the Go side lays out the bucket and
which columns, with which Arrow types, its Parquet objects carry (see
shared/predlog/rows.go and shared/runstore on the Go side). It also declares
the drift columns and their Evidently column types explicitly, so that
Evidently never infers a type from the data: left to itself, Evidently
would treat an integer column with ten or fewer distinct values as
categorical and a string column with mostly distinct values as text, and
the Go drift function would then disagree with it.

It also knows the customer attributes the Go side keeps for fairness
checks (shared/customers): the protected attribute is joined to the
payload log and the reference by customer, compared between its groups,
and never used as a feature or a drift column.

A change to the contract is a change here and in the Go packages, together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

import pyarrow as pa

# Drift columns, by the type Evidently must treat them as. home_area (a
# Chicago police district code) and deductible (one of four amounts) are
# integers in the Parquet objects but categories for drift.
NUMERICAL_FEATURES: Final = ("age", "years_licensed", "vehicle_age", "annual_mileage")
CATEGORICAL_FEATURES: Final = ("home_area", "vehicle_type", "usage", "coverage", "deductible")
FEATURES: Final = NUMERICAL_FEATURES + CATEGORICAL_FEATURES
PREDICTION: Final = "probability"  # numerical: the predicted claim probability
TARGET: Final = "claim"  # categorical: the observed outcome, 0 or 1
POSITIVE_CLASS: Final = 1

# The customer a prediction or reference row is about (a pseudonym).
CUSTOMER_ID: Final = "customer_id"

# The share of drifted feature columns at which a dataset counts as drifted
# (drift_share of Evidently's DataDriftPreset, whose own default is 0.5). The
# Go drift function's default, CLAIMRISK_DRIFT_SHARE, is the same 0.3, and
# `python -m monitoring report --drift-share` takes the value the drift
# function used, which the local runtime passes on from each drift report.
DATASET_DRIFT_SHARE: Final = 0.3

# Columns and Arrow types of the objects the Go functions write.
_PREDICTION_ROW: Final[Mapping[str, pa.DataType]] = {
    "time": pa.timestamp("ms", tz="UTC"),
    "request_id": pa.string(),
    "model_version": pa.int32(),
    "policy_id": pa.string(),
    "customer_id": pa.string(),
    "age": pa.float64(),
    "years_licensed": pa.float64(),
    "home_area": pa.int64(),
    "vehicle_type": pa.string(),
    "vehicle_age": pa.int64(),
    "usage": pa.string(),
    "annual_mileage": pa.float64(),
    "coverage": pa.string(),
    "deductible": pa.int64(),
    "crash_rate": pa.float64(),
    "injury_share": pa.float64(),
    "probability": pa.float64(),
    "band": pa.string(),
}
PREDICTION_SCHEMA: Final = pa.schema(list(_PREDICTION_ROW.items()))
REFERENCE_SCHEMA: Final = pa.schema([*_PREDICTION_ROW.items(), ("start_date", pa.date32()), ("claim", pa.int32())])
FEEDBACK_SCHEMA: Final = pa.schema(
    [
        ("time", pa.timestamp("ms", tz="UTC")),
        ("request_id", pa.string()),
        ("policy_id", pa.string()),
        ("claim", pa.int32()),
    ]
)
# A feedback row belongs to the prediction with the same pseudonymous
# request and policy ids.
FEEDBACK_KEY: Final = ("request_id", "policy_id")

# Customer attributes (shared/customers.Attribute): customer is the same
# pseudonym as CUSTOMER_ID in the payload log and the reference.
ATTRIBUTE_KEY: Final = "customer"
PROTECTED_ATTRIBUTE: Final = "sex"
ATTRIBUTE_SCHEMA: Final = pa.schema([(ATTRIBUTE_KEY, pa.string()), (PROTECTED_ATTRIBUTE, pa.string())])
GROUPS: Final = ("F", "M")  # the values of the protected attribute (shared/schema.Sexes)

# Fairness, as shared/governance.DefaultPolicy: the disparate impact is the
# mean predicted probability of the protected group over that of the
# reference group, flagged outside [lower, upper] (the four-fifths rule,
# both ways).
PROTECTED_GROUP: Final = "F"
REFERENCE_GROUP: Final = "M"
DISPARATE_IMPACT_LOWER: Final = 0.8
DISPARATE_IMPACT_UPPER: Final = 1.25

# Bucket layout. Payload-log objects are <prefix>YYYY/MM/DD/<unix-millis>-
# <instance>-<seq>.parquet; the day is when the batch was written, so rows
# near midnight can sit in the neighbouring day's folder.
# Customer attributes are one object per source, customers/attributes/
# <source>.parquet, read in key order: where objects repeat a customer, the
# last one read wins.
PREDICTIONS_PREFIX: Final = "predlog/predictions/"
FEEDBACK_PREFIX: Final = "predlog/feedback/"
ATTRIBUTES_PREFIX: Final = "customers/attributes/"
DAY_SLACK: Final = timedelta(days=1)
DEFAULT_OUT_PREFIX: Final = "drift/evidently/"
# The Go drift function's record of each checked window
# (shared/driftcheck.WindowPerformance, <PERFORMANCE_PREFIX><report-id>.json):
# its "estimate" object holds the CBPE estimate made from the predictions
# alone. The Evidently job plots these of its fields, each as the mean of a
# derived column that holds the value on every row (MeanValue, no test).
PERFORMANCE_PREFIX: Final = "drift/performance/"
ESTIMATE_FIELDS: Final = {
    "estimated_roc_auc": "roc_auc",
    "estimated_roc_auc_lower": "roc_auc_lower",
    "estimated_roc_auc_upper": "roc_auc_upper",
    "expected_claim_rate": "expected_claim_rate",
}
REPORT_OBJECT: Final = "report.html"
SUMMARY_OBJECT: Final = "summary.json"

_LOG_OBJECT = re.compile(r"(\d{4})/(\d{2})/(\d{2})/(\d+)-[^/]+-\d+\.parquet$")


def is_attribute_object(key: str) -> bool:
    """Whether key names a customer-attribute object, <ATTRIBUTES_PREFIX><source>.parquet."""
    if not key.startswith(ATTRIBUTES_PREFIX):
        return False
    name = key[len(ATTRIBUTES_PREFIX) :]
    return "/" not in name and name.endswith(".parquet") and len(name) > len(".parquet")


def group_column(group: str) -> str:
    """The drift run's derived column for a group: the predicted probability
    where the protected attribute is group, else missing (probability_f)."""
    return f"{PREDICTION}_{group.lower()}"


def day_prefix(prefix: str, day: date) -> str:
    """The folder of the payload log that holds the objects written on day."""
    return f"{prefix}{day:%Y/%m/%d}/"


def log_object_day(prefix: str, key: str) -> date | None:
    """The day folder of a payload-log object, or None if key is not one."""
    if not key.startswith(prefix):
        return None
    m = _LOG_OBJECT.fullmatch(key[len(prefix) :])
    if m is None:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


@dataclass(frozen=True)
class Window:
    """A half-open time window [start, end) of the payload log, in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.start >= self.end:
            raise ValueError("window start must be before its end")

    @property
    def id(self) -> str:
        """A name for the window usable in bucket keys, e.g. 20250101T000000Z-20250108T000000Z."""
        return f"{_compact(self.start)}-{_compact(self.end)}"

    def days(self, slack: timedelta = DAY_SLACK) -> list[date]:
        """The day folders that can hold rows of the window, with slack on both sides."""
        first = (self.start - slack).astimezone(UTC).date()
        last = (self.end + slack).astimezone(UTC).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _compact(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def report_keys(out_prefix: str, window: Window) -> tuple[str, str]:
    """The keys of the HTML report and the JSON summary of a window."""
    prefix = out_prefix if out_prefix.endswith("/") or not out_prefix else out_prefix + "/"
    base = f"{prefix}{window.id}/"
    return base + REPORT_OBJECT, base + SUMMARY_OBJECT


def type_matches(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a column read from Parquet carries the contract's type.

    Physical variations that do not change the meaning are accepted: large
    or dictionary-encoded strings, and timestamps in another unit as long
    as they are in UTC. Integer and float widths must match.
    """
    if actual.equals(expected):
        return True
    if pa.types.is_dictionary(actual):
        return type_matches(actual.value_type, expected)
    if pa.types.is_string(expected):
        return bool(pa.types.is_large_string(actual))
    if pa.types.is_timestamp(expected) and pa.types.is_timestamp(actual):
        return actual.tz in ("UTC", "+00:00", "Etc/UTC")
    return False
