"""Contract-exact test data for the Evidently job, and tests of how it is read.

The builders here write Parquet objects the way the Go functions do
(shared/predlog, shared/runstore): the schemas below are spelled out again
rather than taken from monitoring.contract, so a mistake there is caught
instead of copied. Other test modules import the builders.

Everything is seeded; the population is a small synthetic insurer whose
claim probability depends on age, mileage, area and vehicle, so that ROC AUC
on labelled rows means something.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monitoring import contract, payload
from monitoring.bucket import open_bucket
from monitoring.contract import Window
from monitoring.errors import MonitoringError

UTC = UTC
AREAS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 22, 24, 25)
VEHICLES = ("sedan", "suv", "pickup", "van", "sports")
USAGES = ("pleasure", "commute", "business")
COVERAGES = ("liability", "standard", "comprehensive")
DEDUCTIBLES = (250, 500, 1000, 2000)

# The payload-log row (shared/predlog.Row), field by field.
PREDICTION_FIELDS = [
    ("time", pa.timestamp("ms", tz="UTC")),
    ("request_id", pa.string()),
    ("model_version", pa.int32()),
    ("policy_id", pa.string()),
    ("customer_id", pa.string()),
    ("age", pa.float64()),
    ("years_licensed", pa.float64()),
    ("home_area", pa.int64()),
    ("vehicle_type", pa.string()),
    ("vehicle_age", pa.int64()),
    ("usage", pa.string()),
    ("annual_mileage", pa.float64()),
    ("coverage", pa.string()),
    ("deductible", pa.int64()),
    ("crash_rate", pa.float64()),
    ("injury_share", pa.float64()),
    ("probability", pa.float64()),
    ("band", pa.string()),
]
REFERENCE_FIELDS = [*PREDICTION_FIELDS, ("start_date", pa.date32()), ("claim", pa.int32())]
FEEDBACK_FIELDS = [
    ("time", pa.timestamp("ms", tz="UTC")),
    ("request_id", pa.string()),
    ("policy_id", pa.string()),
    ("claim", pa.int32()),
]
# A customer's protected attribute (shared/customers.Attribute).
ATTRIBUTE_FIELDS = [("customer", pa.string()), ("sex", pa.string())]


@dataclass(frozen=True)
class Shift:
    """A change to the population: older drivers, or mileage reported in kilometres."""

    age_years: float = 0.0
    mileage_factor: float = 1.0


def policies(
    rng: np.random.Generator, n: int, start: datetime, end: datetime, shift: Shift = Shift(), tag: str = "p"
) -> pd.DataFrame:
    """n answered predictions with times spread over [start, end), in payload-log columns."""
    age = np.clip(rng.normal(44, 13, n), 17, 95)
    years_licensed = np.clip(age - 17 - rng.gamma(2, 2, n), 0, None)
    area = rng.choice(AREAS, n)
    vehicle = rng.choice(VEHICLES, n, p=[0.4, 0.25, 0.15, 0.12, 0.08])
    mileage = rng.gamma(4, 3000, n)
    crash_rate = 0.5 + area / 25
    logit = (
        -2.6 - 0.025 * (age - 44) + 0.00004 * (mileage - 12000) + 0.4 * (crash_rate - 1) + 0.6 * (vehicle == "sports")
    )
    probability = 1 / (1 + np.exp(-logit))
    seconds = rng.uniform(0, (end - start).total_seconds(), n)
    times = pd.to_datetime(start) + pd.to_timedelta(np.floor(seconds * 1000), unit="ms")
    ids = [f"{tag}{i:06d}" for i in range(n)]
    frame = pd.DataFrame(
        {
            "time": times,
            "request_id": [f"req-{i}" for i in ids],
            "model_version": np.full(n, 2, dtype=np.int32),
            "policy_id": [f"pol-{i}" for i in ids],
            "customer_id": [f"cus-{i}" for i in ids],
            "age": age + shift.age_years,
            "years_licensed": years_licensed,
            "home_area": area.astype(np.int64),
            "vehicle_type": vehicle,
            "vehicle_age": rng.integers(0, 20, n).astype(np.int64),
            "usage": rng.choice(USAGES, n, p=[0.5, 0.35, 0.15]),
            "annual_mileage": mileage * shift.mileage_factor,
            "coverage": rng.choice(COVERAGES, n),
            "deductible": rng.choice(DEDUCTIBLES, n).astype(np.int64),
            "crash_rate": crash_rate,
            "injury_share": rng.uniform(0.1, 0.3, n),
            "probability": probability,
            "band": np.where(probability > 0.1, "high", "low"),
        }
    )
    return frame.sort_values("time", ignore_index=True)


def resample(
    rng: np.random.Generator,
    source: pd.DataFrame,
    n: int,
    start: datetime,
    end: datetime,
    shift: Shift = Shift(),
    tag: str = "s",
) -> pd.DataFrame:
    """n rows drawn without replacement from source, as new predictions in [start, end).

    A window sampled from the reference is the plainest "no drift": the
    sample's shares can only be closer to the reference's than an independent
    draw's, which matters because Evidently's chi-square test takes the
    reference shares as exact and so flags independent draws of the same
    population far more often than 5% of the time.
    """
    rows = source.iloc[rng.choice(len(source), size=n, replace=False)].reset_index(drop=True)
    fresh = policies(rng, n, start, end, tag=tag)
    rows[["time", "request_id", "policy_id", "customer_id"]] = fresh[["time", "request_id", "policy_id", "customer_id"]]
    rows["age"] = rows["age"] + shift.age_years
    rows["annual_mileage"] = rows["annual_mileage"] * shift.mileage_factor
    return rows.sort_values("time", ignore_index=True)


def outcomes(rng: np.random.Generator, frame: pd.DataFrame) -> np.ndarray:
    """Observed claims drawn from the predicted probabilities (a calibrated model)."""
    return (rng.uniform(size=len(frame)) < frame["probability"].to_numpy()).astype(np.int32)


def table(frame: pd.DataFrame, fields: list[tuple[str, pa.DataType]]) -> pa.Table:
    """The frame's columns as Arrow arrays of exactly the contract's types."""
    return pa.table({name: pa.array(frame[name].tolist(), type=kind) for name, kind in fields})


def write_reference(root: Path, run_id: str, frame: pd.DataFrame, claims: np.ndarray) -> str:
    """A training run's validation rows; request ids are empty, as in the Go run store."""
    rows = frame.assign(
        request_id="",
        time=frame["time"],
        start_date=[t.date() for t in frame["time"]],
        claim=claims,
    )
    key = f"runs/{run_id}/validation.parquet"
    _write(root / key, table(rows, REFERENCE_FIELDS))
    return key


def write_log(root: Path, prefix: str, frame: pd.DataFrame, fields: list[tuple[str, pa.DataType]]) -> list[str]:
    """Hourly batches as the payload log flushes them: each under the day of its
    flush, a second past the hour, so a batch that ends before midnight lands in
    the next day's folder; named <unix-millis>-<instance>-<seq>.parquet."""
    keys = []
    for seq, (hour, rows) in enumerate(frame.groupby(frame["time"].dt.floor("h"), sort=True)):
        flushed = hour + pd.Timedelta(hours=1, seconds=1)
        millis = int(flushed.timestamp() * 1000)
        key = f"{prefix}{flushed:%Y/%m/%d}/{millis}-predict-00001-{seq}.parquet"
        _write(root / key, table(rows, fields))
        keys.append(key)
    return keys


def write_predictions(root: Path, frame: pd.DataFrame) -> list[str]:
    return write_log(root, "predlog/predictions/", frame, PREDICTION_FIELDS)


def write_feedback(root: Path, frame: pd.DataFrame) -> list[str]:
    return write_log(root, "predlog/feedback/", frame, FEEDBACK_FIELDS)


def sexes(rng: np.random.Generator, frame: pd.DataFrame, female: float = 0.5) -> pd.DataFrame:
    """The attributes of frame's customers, each F with probability female, in attribute-object columns."""
    drawn = np.where(rng.uniform(size=len(frame)) < female, "F", "M")
    return pd.DataFrame({"customer": frame["customer_id"].to_numpy(), "sex": drawn})


def write_attributes(root: Path, source: str, attributes: pd.DataFrame) -> str:
    """One source's customer attributes, as customers.Write stores them."""
    key = f"customers/attributes/{source}.parquet"
    _write(root / key, table(attributes, ATTRIBUTE_FIELDS))
    return key


def feedback_for(frame: pd.DataFrame, claims: np.ndarray, delay: timedelta = timedelta(days=30)) -> pd.DataFrame:
    """The outcomes of the given predictions, reported delay after each."""
    return pd.DataFrame(
        {
            "time": frame["time"] + pd.Timedelta(delay),
            "request_id": frame["request_id"],
            "policy_id": frame["policy_id"],
            "claim": claims,
        }
    ).sort_values("time", ignore_index=True)


@dataclass(frozen=True)
class Run:
    """What one `python -m monitoring report` run printed and wrote."""

    status: int
    stdout: str
    summary: dict
    html: str


def run_report(root: Path, reference_key: str, start: datetime, end: datetime, *extra: str) -> Run:
    """Run the report command in this process (Evidently is imported once per test session)."""
    import io

    from monitoring.__main__ import main

    out = io.StringIO()
    args = ["report", "--bucket", root.as_uri(), "--reference", reference_key]
    status = main([*args, "--from", start.isoformat(), "--to", end.isoformat(), *extra], out=out)
    window = Window(start, end)
    html_key, summary_key = contract.report_keys(contract.DEFAULT_OUT_PREFIX, window)
    summary = json.loads((root / summary_key).read_text()) if status == 0 else {}
    html = (root / html_key).read_text() if status == 0 else ""
    return Run(status, out.getvalue(), summary, html)


def _write(path: Path, data: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(data, path)


# ---------------------------------------------------------------- tests of reading

JAN = datetime(2025, 1, 1, tzinfo=UTC)
WINDOW = Window(datetime(2025, 1, 8, tzinfo=UTC), datetime(2025, 1, 15, tzinfo=UTC))


@pytest.fixture
def bucket_dir(tmp_path: Path) -> Path:
    root = tmp_path / "bucket"
    root.mkdir()
    return root


def test_window_keeps_only_rows_in_half_open_interval(bucket_dir: Path) -> None:
    rng = np.random.default_rng(11)
    # Three weeks of traffic around the one-week window, written across day folders.
    frame = policies(rng, 900, JAN, datetime(2025, 1, 22, tzinfo=UTC))
    edge = frame.iloc[[0, 1]].copy()
    edge["time"] = [pd.Timestamp(WINDOW.start), pd.Timestamp(WINDOW.end)]  # start is in, end is out
    edge["request_id"] = ["req-edge-start", "req-edge-end"]
    write_predictions(bucket_dir, pd.concat([frame, edge]).sort_values("time", ignore_index=True))

    current = payload.load_current(open_bucket(bucket_dir.as_uri()), WINDOW)

    want = frame[(frame["time"] >= pd.Timestamp(WINDOW.start)) & (frame["time"] < pd.Timestamp(WINDOW.end))]
    assert len(current.rows) == len(want) + 1
    assert "req-edge-start" in set(current.rows["request_id"])
    assert "req-edge-end" not in set(current.rows["request_id"])
    assert current.rows[contract.TARGET].isna().all()
    assert current.labelled.empty


def test_feedback_joins_by_request_and_policy_and_latest_wins(bucket_dir: Path) -> None:
    rng = np.random.default_rng(12)
    frame = policies(rng, 200, WINDOW.start, WINDOW.end)
    write_predictions(bucket_dir, frame)
    first = frame.iloc[:50]
    feedback = feedback_for(first, np.zeros(50, dtype=np.int32))
    # A later correction for the first ten policies: a claim after all.
    correction = feedback_for(first.iloc[:10], np.ones(10, dtype=np.int32), delay=timedelta(days=60))
    # Feedback naming a known request with another policy matches nothing.
    stray = feedback_for(frame.iloc[60:61].assign(policy_id="pol-unknown"), np.ones(1, dtype=np.int32))
    write_feedback(bucket_dir, pd.concat([feedback, correction, stray], ignore_index=True))

    current = payload.load_current(open_bucket(str(bucket_dir)), WINDOW)

    labelled = current.labelled.set_index("request_id")["claim"]
    assert len(labelled) == 50
    assert labelled.dtype == np.int32
    assert labelled[first["request_id"].iloc[:10]].eq(1).all()
    assert labelled[first["request_id"].iloc[10:]].eq(0).all()
    assert current.rows.set_index("request_id").loc[frame["request_id"].iloc[60], "claim"] is pd.NA


def test_fsspec_bucket_reads_the_same_objects(bucket_dir: Path) -> None:
    """memory:// goes through fsspec, as s3:// and gs:// do in production."""
    import fsspec

    rng = np.random.default_rng(13)
    frame = policies(rng, 120, WINDOW.start, WINDOW.end)
    write_predictions(bucket_dir, frame)
    fs = fsspec.filesystem("memory")
    for path in bucket_dir.rglob("*.parquet"):
        fs.pipe_file(f"/claimrisk-test/{path.relative_to(bucket_dir).as_posix()}", path.read_bytes())
    try:
        current = payload.load_current(open_bucket("memory://claimrisk-test"), WINDOW)
    finally:
        fs.rm("/claimrisk-test", recursive=True)
    assert len(current.rows) == 120


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda t: t.drop_columns(["age"]), "missing column(s) age"),
        (
            lambda t: t.set_column(t.schema.get_field_index("age"), "age", pa.array(["x"] * t.num_rows)),
            "age is string, want double",
        ),
        (
            lambda t: t.set_column(0, "time", t["time"].cast(pa.timestamp("ms"))),
            "time is timestamp[ms], want timestamp[ms, tz=UTC]",
        ),
    ],
)
def test_objects_that_break_the_contract_are_named(bucket_dir: Path, damage, message: str) -> None:
    rng = np.random.default_rng(14)
    frame = policies(rng, 10, WINDOW.start, WINDOW.end)
    key = f"predlog/predictions/{WINDOW.start:%Y/%m/%d}/1736294400000-predict-00001-0.parquet"
    _write(bucket_dir / key, damage(table(frame, PREDICTION_FIELDS)))
    with pytest.raises(MonitoringError, match=r"^" + key.replace(".", r"\.")) as raised:
        payload.load_current(open_bucket(str(bucket_dir)), WINDOW)
    assert message in str(raised.value)


def test_attributes_join_both_datasets_and_the_last_object_wins(bucket_dir: Path) -> None:
    rng = np.random.default_rng(15)
    reference = policies(rng, 60, JAN, WINDOW.start, tag="ref")
    frame = policies(rng, 40, WINDOW.start, WINDOW.end)
    write_predictions(bucket_dir, frame)
    training = sexes(rng, reference)
    # Keys sort dataset-run-1 < traffic-1 < traffic-2 (written out of order): the
    # later objects name window customers again, and the last one read wins.
    traffic = sexes(rng, frame.iloc[:30])
    relabelled = traffic.iloc[:10].assign(sex=np.where(traffic["sex"].iloc[:10] == "F", "M", "F"))
    again = traffic.iloc[:5].assign(sex="F")
    write_attributes(bucket_dir, "traffic-2", again)
    write_attributes(bucket_dir, "dataset-run-1", training)
    write_attributes(bucket_dir, "traffic-1", pd.concat([traffic, relabelled], ignore_index=True))
    # Not an attribute object: metadata beside one, and an object in a subfolder.
    (bucket_dir / "customers/attributes/traffic-1.parquet.attrs").write_text("{}")
    write_attributes(bucket_dir, "old/ignored", traffic.assign(sex="F"))

    bucket = open_bucket(str(bucket_dir))
    attributes = payload.load_attributes(bucket)
    joined_reference = attributes.join(payload.load_reference(bucket, write_reference(bucket_dir, "r", reference, 0)))
    current = payload.load_current(bucket, WINDOW)
    joined = attributes.join(current.rows).set_index("request_id")["sex"]

    assert attributes.objects == 3
    assert joined_reference["sex"].tolist() == training["sex"].tolist()
    want = traffic.set_index("customer")["sex"].copy()
    want.iloc[:10] = relabelled["sex"].to_numpy()
    want.iloc[:5] = "F"
    by_request = frame.set_index("customer_id")["request_id"]
    assert joined[by_request[want.index]].tolist() == want.tolist()
    # The last ten customers of the window have no attribute: missing, not a group.
    assert joined[frame["request_id"].iloc[30:]].isna().all()
    assert "sex" not in current.rows.columns  # load_current itself knows nothing of attributes


def test_no_attribute_objects_join_nothing(bucket_dir: Path) -> None:
    rng = np.random.default_rng(16)
    write_predictions(bucket_dir, policies(rng, 20, WINDOW.start, WINDOW.end))
    bucket = open_bucket(str(bucket_dir))
    attributes = payload.load_attributes(bucket)
    assert attributes.objects == 0
    assert attributes.join(payload.load_current(bucket, WINDOW).rows)["sex"].isna().all()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda t: t.rename_columns(["customer", "gender"]), "missing column(s) sex; the object does not follow the"),
        (lambda t: t.set_column(1, "sex", pa.array([1] * t.num_rows, type=pa.int64())), "sex is int64, want string"),
        (lambda t: t.set_column(1, "sex", pa.array(["F", "X"] + [None] * (t.num_rows - 2))), "sex holds 'X', null;"),
    ],
)
def test_attribute_objects_that_break_the_contract_are_named(bucket_dir: Path, damage, message: str) -> None:
    rng = np.random.default_rng(17)
    write_attributes(bucket_dir, "a", sexes(rng, policies(rng, 5, WINDOW.start, WINDOW.end)))
    key = "customers/attributes/b.parquet"
    _write(bucket_dir / key, damage(table(sexes(rng, policies(rng, 5, WINDOW.start, WINDOW.end)), ATTRIBUTE_FIELDS)))
    with pytest.raises(MonitoringError, match=r"^" + key.replace(".", r"\.")) as raised:
        payload.load_attributes(open_bucket(str(bucket_dir)))
    assert message in str(raised.value)


def test_window_id_and_output_keys() -> None:
    assert WINDOW.id == "20250108T000000Z-20250115T000000Z"
    assert contract.report_keys("drift/evidently", WINDOW) == (
        "drift/evidently/20250108T000000Z-20250115T000000Z/report.html",
        "drift/evidently/20250108T000000Z-20250115T000000Z/summary.json",
    )
    assert WINDOW.days()[0] == date(2025, 1, 7) and WINDOW.days()[-1] == date(2025, 1, 16)
