"""The rows a drift check compares: the reference and a window of the payload log.

The reference is a training run's labelled validation rows. The current
rows are the predictions logged with a time in the window, each joined
with its observed outcome when feedback has arrived for it. Both can be
joined with the customers' protected attribute, for fairness figures. Every
object is checked against the contract before it is used, so that a Go
change that renames or retypes a column fails here with a message naming
the object and the column, not deep inside Evidently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from monitoring import contract
from monitoring.bucket import Bucket
from monitoring.contract import Window
from monitoring.errors import MonitoringError


@dataclass(frozen=True)
class Current:
    """The predictions of a window, with claim set (0/1) where feedback arrived, else missing."""

    rows: pd.DataFrame
    objects: int
    feedback_objects: int

    @property
    def labelled(self) -> pd.DataFrame:
        """The rows with an observed outcome, claim as int32."""
        rows = self.rows[self.rows[contract.TARGET].notna()].copy()
        rows[contract.TARGET] = rows[contract.TARGET].astype("int32")
        return rows


@dataclass(frozen=True)
class Attributes:
    """The protected attribute of each known customer, and how many objects it was read from."""

    by_customer: pd.Series  # index: customer pseudonym; values: one of contract.GROUPS
    objects: int

    def join(self, rows: pd.DataFrame) -> pd.DataFrame:
        """rows with the protected attribute added by customer id; missing where it is not known."""
        groups = rows[contract.CUSTOMER_ID].map(self.by_customer).astype("string")
        return rows.assign(**{contract.PROTECTED_ATTRIBUTE: groups})


def load_attributes(bucket: Bucket) -> Attributes:
    """The customer attributes: every object under the prefix in key order, the last row of a customer winning.

    No objects at all is not an error: the fairness figures are then left out.
    """
    keys = sorted(k for k in bucket.list(contract.ATTRIBUTES_PREFIX) if contract.is_attribute_object(k))
    frames = [_attribute_rows(bucket, k) for k in keys]
    if not frames:
        return Attributes(pd.Series([], index=pd.Index([], dtype="object"), dtype="string"), objects=0)
    rows = pd.concat(frames, ignore_index=True).drop_duplicates(contract.ATTRIBUTE_KEY, keep="last")
    return Attributes(rows.set_index(contract.ATTRIBUTE_KEY)[contract.PROTECTED_ATTRIBUTE], objects=len(keys))


def _attribute_rows(bucket: Bucket, key: str) -> pd.DataFrame:
    table = _read_table(bucket, key, contract.ATTRIBUTE_SCHEMA, "customer-attribute")
    rows = table.to_pandas(use_threads=False).astype("string")
    if rows[contract.ATTRIBUTE_KEY].isna().any():
        raise MonitoringError(f"{key}: {contract.ATTRIBUTE_KEY} has missing values; every row must name a customer")
    values = rows[contract.PROTECTED_ATTRIBUTE]
    unknown = sorted({"null" if pd.isna(v) else repr(v) for v in values[~values.isin(contract.GROUPS)]})
    if unknown:
        raise MonitoringError(
            f"{key}: {contract.PROTECTED_ATTRIBUTE} holds {', '.join(unknown[:5])}; "
            f"the contract allows only {' or '.join(contract.GROUPS)}"
        )
    return rows


def load_reference(bucket: Bucket, key: str) -> pd.DataFrame:
    """The reference rows stored with a training run."""
    table = _read_table(bucket, key, contract.REFERENCE_SCHEMA, "run-store")
    if table.num_rows == 0:
        raise MonitoringError(f"{key}: the reference has no rows; choose the validation data of another run")
    return table.to_pandas(use_threads=False)


def load_current(bucket: Bucket, window: Window) -> Current:
    """The predictions logged with time in [window.start, window.end), labelled where possible."""
    keys = _log_keys(bucket, contract.PREDICTIONS_PREFIX, window.days())
    if not keys:
        raise MonitoringError(
            f"no payload-log objects under {contract.PREDICTIONS_PREFIX} for the days around "
            f"{window.start:%Y-%m-%d}..{window.end:%Y-%m-%d} in {bucket.url}; check --bucket, --from and --to"
        )
    table = pa.concat_tables(_read_table(bucket, k, contract.PREDICTION_SCHEMA, "payload-log") for k in keys)
    rows = table.to_pandas(use_threads=False)
    in_window = (rows["time"] >= pd.Timestamp(window.start)) & (rows["time"] < pd.Timestamp(window.end))
    rows = rows[in_window].reset_index(drop=True)
    if rows.empty:
        raise MonitoringError(
            f"no predictions with time in [{window.start.isoformat()}, {window.end.isoformat()}) "
            f"in {len(keys)} payload-log objects; choose a window with traffic"
        )
    feedback_keys = [k for k in bucket.list(contract.FEEDBACK_PREFIX) if _day_on_or_after(k, window)]
    feedback = _latest_feedback(bucket, feedback_keys)
    return Current(rows=_join(rows, feedback), objects=len(keys), feedback_objects=len(feedback_keys))


def _log_keys(bucket: Bucket, prefix: str, days: Iterable[date]) -> list[str]:
    keys: list[str] = []
    for day in days:
        keys.extend(k for k in bucket.list(contract.day_prefix(prefix, day)) if contract.log_object_day(prefix, k))
    return keys


def _day_on_or_after(key: str, window: Window) -> bool:
    """Feedback for a prediction arrives after it, so older day folders cannot hold any."""
    day = contract.log_object_day(contract.FEEDBACK_PREFIX, key)
    return day is not None and day >= window.days()[0]


def _latest_feedback(bucket: Bucket, keys: list[str]) -> pd.DataFrame:
    """One outcome per request and policy: the one reported last."""
    if not keys:
        return contract.FEEDBACK_SCHEMA.empty_table().to_pandas(use_threads=False)
    tables = [_read_table(bucket, k, contract.FEEDBACK_SCHEMA, "payload-log") for k in keys]
    feedback = pa.concat_tables(tables).to_pandas(use_threads=False)
    feedback = feedback.sort_values("time", kind="stable")
    return feedback.drop_duplicates(list(contract.FEEDBACK_KEY), keep="last")


def _join(rows: pd.DataFrame, feedback: pd.DataFrame) -> pd.DataFrame:
    outcomes = feedback[[*contract.FEEDBACK_KEY, contract.TARGET]]
    joined = rows.merge(outcomes, how="left", on=list(contract.FEEDBACK_KEY), validate="many_to_one")
    joined[contract.TARGET] = joined[contract.TARGET].astype("Int32")
    return joined


def _read_table(bucket: Bucket, key: str, schema: pa.Schema, kind: str) -> pa.Table:
    """Read a Parquet object, check it against the contract and cast it to the contract's types."""
    data = bucket.read(key)
    try:
        # Single-threaded: the objects are small, and pyarrow's thread pool can
        # abort the interpreter at exit after a threaded read from a buffer
        # ("terminate called without an active exception", apache/arrow#34314).
        table = pq.read_table(pa.BufferReader(data), use_threads=False)
    except (pa.ArrowException, OSError) as e:
        raise MonitoringError(f"{key}: not a readable Parquet file ({_first_line(e)})") from None
    missing = [f.name for f in schema if f.name not in table.schema.names]
    if missing:
        raise MonitoringError(
            f"{key}: missing column(s) {', '.join(missing)}; the object does not follow the {kind} contract"
        )
    wrong = [
        f"{f.name} is {table.schema.field(f.name).type}, want {f.type}"
        for f in schema
        if not contract.type_matches(table.schema.field(f.name).type, f.type)
    ]
    if wrong:
        raise MonitoringError(f"{key}: wrong column type(s): {'; '.join(wrong)}")
    try:
        return table.select(schema.names).cast(schema, safe=False)
    except pa.ArrowException as e:
        raise MonitoringError(f"{key}: cannot convert to the contract's types ({_first_line(e)})") from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
