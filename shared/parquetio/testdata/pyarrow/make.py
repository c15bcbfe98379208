"""Writes payload-log files the way pandas and pyarrow do, for the Go reader's tests.

pyarrow's defaults differ from what the Go writer makes: optional (nullable)
columns, dictionary encoding of every column, numbers included, and with
these options data pages of version 2, zstd, microsecond timestamps, nulls,
and small pages and row groups so that a few rows make many of each. The
Go test computes the same rows (a null is the zero value there). Run from the repository root with the project's .venv:

    .venv/bin/python shared/parquetio/testdata/pyarrow/make.py
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
N = 1200
T0 = datetime(2025, 6, 2, 10, tzinfo=UTC)


def rows():
    out = []
    for i in range(N):
        out.append(
            {
                "time": T0 + timedelta(milliseconds=1237 * i),
                "request_id": f"req-{i:06d}",
                "model_version": 1 + i % 3,
                "policy_id": f"p{i * 7919 % 100000:05d}",
                "customer_id": f"c{i // 2:05d}",
                "age": 18.0 + (i % 700) / 10,
                "years_licensed": (i % 400) / 10,
                "home_area": 1 + i % 25,
                "vehicle_type": ("sedan", "suv", "pickup", "van", "sports")[i % 5],
                "vehicle_age": i % 20,
                "usage": ("pleasure", "commute", "business")[i % 3],
                "annual_mileage": float(1000 + (i * 37) % 30000),
                "coverage": ("liability", "standard", "comprehensive")[i % 3],
                "deductible": (250, 500, 1000, 2000)[i % 4],
                "crash_rate": (i % 90) / 10,
                "injury_share": (i % 100) / 100,
                "probability": (i % 997) / 997,
                "band": ("low", "medium", "high")[i % 3],
            }
        )
    return out


def schema(unit):
    return pa.schema(
        [
            ("time", pa.timestamp(unit, tz="UTC")),
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
    )


def main():
    rs = rows()
    pq.write_table(pa.Table.from_pylist(rs, schema=schema("ms")), HERE / "log-defaults.parquet")
    nulls = [dict(r) for r in rs]
    for i in range(0, N, 97):
        nulls[i]["age"] = None
        nulls[i]["vehicle_type"] = None
        nulls[i]["home_area"] = None
    pq.write_table(
        pa.Table.from_pylist(nulls, schema=schema("us")),
        HERE / "log-v2-zstd-nulls.parquet",
        data_page_version="2.0",
        compression="zstd",
        data_page_size=1024,
        row_group_size=500,
    )
    # Tiny copies, the fuzzer's seeds: it mutates small inputs far faster.
    pq.write_table(pa.Table.from_pylist(rs[:4], schema=schema("ms")), HERE / "tiny-defaults.parquet")
    pq.write_table(
        pa.Table.from_pylist(nulls[:4], schema=schema("us")),
        HERE / "tiny-v2-zstd-nulls.parquet",
        data_page_version="2.0",
        compression="zstd",
    )


if __name__ == "__main__":
    main()
