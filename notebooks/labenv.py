"""Where the workshop's system is, for the lab notebooks.

Each address comes from an environment variable when it is set, else from
the running `claimrisk up` ($CLAIMRISK_HOME/up.json, as the command line
finds it), else from the local default:

    bucket      CLAIMRISK_BUCKET        $CLAIMRISK_HOME/bucket (~/.claimrisk/bucket)
    MLflow      MLFLOW_TRACKING_URI     http://127.0.0.1:5050
    prediction  CLAIMRISK_PREDICT_URL   http://127.0.0.1:8703

`Bucket` reads the bucket with fsspec: a directory, file://, or s3://, gs://
and azblob:// (az://) when their fsspec packages are installed.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd


def home() -> Path:
    """The local runtime's directory: CLAIMRISK_HOME, else ~/.claimrisk."""
    return Path(os.environ.get("CLAIMRISK_HOME") or Path.home() / ".claimrisk")


def running() -> dict[str, str]:
    """The component URLs of a running `claimrisk up`, or {} when none runs."""
    try:
        components = json.loads((home() / "up.json").read_text())
    except (OSError, ValueError):
        return {}
    return {c["name"]: c["url"] for c in components}


def bucket_url() -> str:
    return os.environ.get("CLAIMRISK_BUCKET") or str(home() / "bucket")


def mlflow_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or running().get("mlflow") or "http://127.0.0.1:5050"


def predict_url() -> str:
    return os.environ.get("CLAIMRISK_PREDICT_URL") or running().get("predict") or "http://127.0.0.1:8703"


class Bucket:
    """Read-only access to the claimrisk bucket."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or bucket_url()
        spec = self.url.replace("azblob://", "az://", 1)
        self.fs, self.root = fsspec.core.url_to_fs(spec)
        self.root = self.root.rstrip("/")

    def __repr__(self) -> str:
        return f"Bucket({self.url!r})"

    def path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def keys(self, prefix: str) -> list[str]:
        """Every key under prefix, sorted."""
        base = self.path(prefix).rstrip("/")
        if not self.fs.exists(base):
            return []
        return sorted(p[len(self.root) + 1 :] for p in self.fs.find(base))

    def dirs(self, prefix: str) -> list[str]:
        """The names one level below prefix, sorted."""
        base = self.path(prefix).rstrip("/")
        if not self.fs.exists(base):
            return []
        return sorted(Path(p).name for p in self.fs.ls(base, detail=False) if self.fs.isdir(p))

    def read_json(self, key: str) -> Any:
        with self.fs.open(self.path(key), "rb") as f:
            return json.load(f)

    def read_parquet(self, key: str) -> pd.DataFrame:
        with self.fs.open(self.path(key), "rb") as f:
            return pd.read_parquet(io.BytesIO(f.read()))

    def runs(self) -> pd.DataFrame:
        """Every finished training run (runs/*/run.json), newest first, with its out-of-time metrics."""
        rows = []
        for run_id in self.dirs("runs/"):
            try:
                run = self.read_json(f"runs/{run_id}/run.json")
            except FileNotFoundError:
                continue  # unfinished: run.json is written last
            metrics = run.pop("metrics", {})
            for name in ("auc", "gini", "log_loss", "brier", "mean_predicted", "observed_rate"):
                run[name] = metrics.get(name)
            rows.append(run)
        if not rows:
            return pd.DataFrame()
        runs = pd.DataFrame(rows)
        runs["created"] = pd.to_datetime(runs["created"], format="ISO8601")
        return runs.sort_values("created", ascending=False, ignore_index=True)
