"""`python -m monitoring` as a process: help, and one-line errors for bad input.

Every failure here is the user's (a wrong key, an empty window, a broken
object): the command must say so in one line on stderr and exit non-zero,
without a traceback. These runs stop before Evidently is imported, so each
takes about a second.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from test_monitoring_data import (
    ATTRIBUTE_FIELDS,
    PREDICTION_FIELDS,
    REFERENCE_FIELDS,
    UTC,
    outcomes,
    policies,
    sexes,
    table,
    write_attributes,
    write_predictions,
    write_reference,
)

REPO = Path(__file__).resolve().parents[2]
START, END = datetime(2025, 2, 3, tzinfo=UTC), datetime(2025, 2, 10, tzinfo=UTC)


def monitoring(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitoring", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    """A bucket with a reference and a week of predictions, 2025-02-03 to 2025-02-10."""
    root = tmp_path / "bucket"
    rng = np.random.default_rng(21)
    reference = policies(rng, 300, datetime(2025, 1, 1, tzinfo=UTC), START, tag="ref")
    write_reference(root, "run-1", reference, outcomes(rng, reference))
    write_predictions(root, policies(rng, 100, START, END))
    return root


def report(
    bucket: Path, *args: str, reference: str = "runs/run-1/validation.parquet"
) -> subprocess.CompletedProcess[str]:
    return monitoring("report", "--bucket", bucket.as_uri(), "--reference", reference, *args)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("command", [[], ["report"], ["dashboard"], ["ui"]])
def test_help(command: list[str]) -> None:
    result = monitoring(*command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m monitoring")
    if command == ["report"]:
        for flag in ("--bucket", "--reference", "--from", "--to", "--workspace", "--project", "--out-prefix"):
            assert flag in result.stdout
    if command == ["ui"]:
        assert "--port" in result.stdout and "8001" in result.stdout


def test_missing_reference(bucket: Path) -> None:
    result = report(
        bucket, "--from", START.isoformat(), "--to", END.isoformat(), reference="runs/nope/validation.parquet"
    )
    assert_one_line_error(result, "runs/nope/validation.parquet not found in bucket")


def test_window_without_objects(bucket: Path) -> None:
    result = report(bucket, "--from", "2024-06-01T00:00:00Z", "--to", "2024-06-08T00:00:00Z")
    assert_one_line_error(result, "no payload-log objects under predlog/predictions/")


def test_window_without_rows(bucket: Path) -> None:
    """Objects exist in the neighbouring day folders, but no row falls in the hour asked for."""
    result = report(bucket, "--from", "2025-02-10T00:00:00Z", "--to", "2025-02-10T01:00:00Z")
    assert_one_line_error(result, "no predictions with time in [2025-02-10T00:00:00+00:00, 2025-02-10T01:00:00+00:00)")


def test_malformed_parquet(bucket: Path) -> None:
    key = "predlog/predictions/2025/02/05/1738742400000-predict-00001-99.parquet"
    (bucket / key).write_bytes(b"PAR1 this is not parquet")
    result = report(bucket, "--from", START.isoformat(), "--to", END.isoformat())
    assert_one_line_error(result, key, "not a readable Parquet file")


def test_reference_with_wrong_columns(bucket: Path) -> None:
    rng = np.random.default_rng(22)
    frame = policies(rng, 50, datetime(2025, 1, 1, tzinfo=UTC), START).assign(claim=0)
    fields = [f for f in REFERENCE_FIELDS if f[0] not in ("claim", "start_date")]
    key = "runs/run-2/validation.parquet"
    (bucket / key).parent.mkdir(parents=True)
    import pyarrow.parquet as pq

    pq.write_table(table(frame, fields), bucket / key)
    result = report(bucket, "--from", START.isoformat(), "--to", END.isoformat(), reference=key)
    assert_one_line_error(result, key, "missing column(s) start_date, claim")


def test_predictions_with_wrong_type(bucket: Path) -> None:
    rng = np.random.default_rng(23)
    frame = policies(rng, 20, START, END)
    fields = [(name, pa.int64() if name == "model_version" else kind) for name, kind in PREDICTION_FIELDS]
    frame["annual_mileage"] = frame["annual_mileage"].round().astype("int64")
    fields = [(name, pa.int64() if name == "annual_mileage" else kind) for name, kind in fields]
    key = "predlog/predictions/2025/02/06/1738828800000-predict-00002-0.parquet"
    import pyarrow.parquet as pq

    pq.write_table(table(frame, fields), bucket / key)
    result = report(bucket, "--from", START.isoformat(), "--to", END.isoformat())
    assert_one_line_error(result, key, "model_version is int64, want int32", "annual_mileage is int64, want double")


def test_attributes_with_wrong_columns(bucket: Path) -> None:
    """A Go change to the attribute objects stops the run before Evidently, naming the object."""
    rng = np.random.default_rng(24)
    write_attributes(bucket, "dataset-run-1", sexes(rng, policies(rng, 20, START, END)))
    renamed = [("customer_id" if name == "customer" else name, kind) for name, kind in ATTRIBUTE_FIELDS]
    frame = sexes(rng, policies(rng, 20, START, END)).rename(columns={"customer": "customer_id"})
    key = "customers/attributes/simulation.parquet"
    import pyarrow.parquet as pq

    pq.write_table(table(frame, renamed), bucket / key)
    result = report(bucket, "--from", START.isoformat(), "--to", END.isoformat())
    assert_one_line_error(result, key, "missing column(s) customer", "customer-attribute contract")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--from", "2025-02-10T00:00:00Z", "--to", "2025-02-03T00:00:00Z"], "is not before --to"),
        (
            ["--from", "2025-02-03T00:00:00Z", "--to", "2025-02-10T00:00:00Z", "--bucket", "ftp://x/y"],
            "unsupported scheme 'ftp'",
        ),
        (
            ["--from", "2025-02-03T00:00:00Z", "--to", "2025-02-10T00:00:00Z", "--bucket", "/does/not/exist"],
            "is not a directory",
        ),
    ],
)
def test_bad_arguments(bucket: Path, args: list[str], fragment: str) -> None:
    assert_one_line_error(report(bucket, *args), fragment)


def test_bad_time_is_a_usage_error(bucket: Path) -> None:
    result = report(bucket, "--from", "last tuesday", "--to", END.isoformat())
    assert result.returncode == 2
    assert "is not an ISO 8601 time" in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_dashboard_and_ui_need_an_existing_workspace(tmp_path: Path) -> None:
    assert_one_line_error(monitoring("ui", "--workspace", str(tmp_path / "none")), "does not exist")


def test_quality_only_needs_a_workspace(bucket: Path) -> None:
    result = report(bucket, "--from", START.isoformat(), "--to", END.isoformat(), "--quality-only")
    assert_one_line_error(result, "--quality-only", "give --workspace")


def test_performance_record_without_an_estimate_field(bucket: Path) -> None:
    key = "drift/performance/20250210T000000.000Z.json"
    (bucket / key).parent.mkdir(parents=True)
    (bucket / key).write_text('{"estimate": {"roc_auc": 0.7}}')
    result = report(bucket, "--from", START.isoformat(), "--to", END.isoformat(), "--performance", key)
    assert_one_line_error(result, key, "the estimate lacks", "roc_auc_lower")


def test_drift_share_must_be_a_share(bucket: Path) -> None:
    result = report(bucket, "--from", START.isoformat(), "--to", END.isoformat(), "--drift-share", "1.5")
    assert result.returncode != 0 and "not a share in (0, 1]" in result.stderr
