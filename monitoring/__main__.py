"""The command line: python -m monitoring report | dashboard | ui.

Each command prints a line per step and a last line naming what it wrote.
Bad input ends in one line on stderr saying what was wrong and a non-zero
exit status; --traceback shows the Python traceback of unexpected errors.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from monitoring import contract
from monitoring.errors import MonitoringError

if TYPE_CHECKING:
    from monitoring.bucket import Bucket
    from monitoring.summary import Estimate, Fairness

DEFAULT_BUCKET = "~/.claimrisk/bucket"
DEFAULT_PORT = 8001
_EXIT_BAD_INPUT = 1
_EXIT_INTERNAL = 3


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run the command in argv; the process exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        args.run(args, out)
    except MonitoringError as e:
        print(f"monitoring {args.command}: {e}", file=sys.stderr)
        return _EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug: still one line, unless asked for the traceback
        if args.traceback:
            raise
        print(
            f"monitoring {args.command}: internal error: {type(e).__name__}: {e} (rerun with --traceback)",
            file=sys.stderr,
        )
        return _EXIT_INTERNAL
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m monitoring",
        description="claimrisk's Evidently job: drift and quality reports over the payload log.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    report = commands.add_parser(
        "report",
        help="build the drift and quality reports of a window",
        description="Compare the predictions logged in [--from, --to) with a training run's reference rows, "
        "join the outcomes reported so far and the customers' protected attribute (for fairness figures), "
        "and write report.html and summary.json to the bucket under "
        "<out-prefix><window-id>/. With --workspace, also add the runs as snapshots to an Evidently workspace.",
    )
    report.add_argument(
        "--bucket",
        default=os.environ.get("CLAIMRISK_BUCKET", DEFAULT_BUCKET),
        help="bucket URL: file:///abs/path, a directory, s3://bucket/prefix or gs://bucket/prefix "
        f"(default: $CLAIMRISK_BUCKET, else {DEFAULT_BUCKET})",
    )
    report.add_argument(
        "--reference",
        required=True,
        metavar="KEY",
        help="key of the reference rows, e.g. runs/<run-id>/validation.parquet",
    )
    report.add_argument(
        "--from",
        dest="start",
        required=True,
        type=_time,
        metavar="ISO8601",
        help="window start, inclusive (UTC unless an offset is given)",
    )
    report.add_argument("--to", dest="end", required=True, type=_time, metavar="ISO8601", help="window end, exclusive")
    report.add_argument(
        "--drift-share",
        type=_share,
        default=contract.DATASET_DRIFT_SHARE,
        metavar="SHARE",
        help="share of drifted feature columns at which the window counts as drifted, as the Go drift function's "
        "CLAIMRISK_DRIFT_SHARE (default: %(default)s)",
    )
    report.add_argument(
        "--performance",
        metavar="KEY",
        help="the drift function's record of the window (drift/performance/<report-id>.json): its CBPE estimate "
        "is plotted beside the realised ROC AUC",
    )
    report.add_argument(
        "--quality-only",
        action="store_true",
        help="only the quality report, for a window whose outcomes arrived late: adds its snapshot to --workspace "
        "and writes nothing to the bucket",
    )
    report.add_argument("--workspace", metavar="DIR", help="Evidently workspace to add the runs to as snapshots")
    report.add_argument("--project", default="claim-risk", help="workspace project (default: %(default)s)")
    report.add_argument(
        "--out-prefix", default=contract.DEFAULT_OUT_PREFIX, help="bucket prefix for the outputs (default: %(default)s)"
    )
    report.set_defaults(run=_report)

    dashboard = commands.add_parser(
        "dashboard",
        help="create or update the project dashboard",
        description="Create or update the project's dashboard panels in an Evidently workspace: drifted share, "
        "drift scores of key features, mean predicted probability, overall and by sex, quality once labels "
        "arrive, and row counts.",
    )
    dashboard.add_argument("--workspace", required=True, metavar="DIR", help="Evidently workspace directory")
    dashboard.add_argument("--project", default="claim-risk", help="workspace project (default: %(default)s)")
    dashboard.set_defaults(run=_dashboard)

    ui = commands.add_parser(
        "ui",
        help="serve the workspace with `evidently ui`",
        description="Serve an Evidently workspace with Evidently's UI until interrupted.",
    )
    ui.add_argument("--workspace", required=True, metavar="DIR", help="Evidently workspace directory")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    ui.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on (default: %(default)s)")
    ui.set_defaults(run=_ui)

    for command in (report, dashboard, ui):
        command.add_argument("--traceback", action="store_true", help="show the traceback of unexpected errors")
    return parser


def _share(text: str) -> float:
    """A share between 0 and 1."""
    try:
        share = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number between 0 and 1") from None
    if not 0 < share <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share in (0, 1]")
    return share


def _time(text: str) -> datetime:
    """An ISO 8601 time; without an offset it is taken as UTC."""
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time such as 2025-01-08T00:00:00Z") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def _report(args: argparse.Namespace, out: TextIO) -> None:
    from monitoring import payload
    from monitoring.bucket import open_bucket

    started = time.monotonic()
    if args.start >= args.end:
        raise MonitoringError(f"--from {args.start.isoformat()} is not before --to {args.end.isoformat()}")
    window = contract.Window(args.start, args.end)
    report_key, summary_key = contract.report_keys(args.out_prefix, window)
    bucket = open_bucket(args.bucket)

    reference = payload.load_reference(bucket, args.reference)
    _say(out, f"reference: {args.reference}, {len(reference)} rows")
    current = payload.load_current(bucket, window)
    attributes = payload.load_attributes(bucket)
    reference = attributes.join(reference)
    current = replace(current, rows=attributes.join(current.rows))
    labelled = len(current.labelled)
    _say(
        out,
        f"window {window.id}: {len(current.rows)} predictions from {current.objects} objects, "
        f"{labelled} labelled from {current.feedback_objects} feedback objects",
    )

    from monitoring import reports  # imports Evidently, which takes seconds

    estimate = _estimate(bucket, args.performance) if args.performance else None
    if args.quality_only:
        if not args.workspace:
            raise MonitoringError("--quality-only adds the quality snapshot to a workspace: give --workspace")
        runs = reports.run(reference, current, window, metadata=_metadata(window, args), quality_only=True)
        from monitoring.workspace import add_runs, open_workspace

        add_runs(open_workspace(args.workspace), args.project, runs.snapshots)
        _say(out, f"workspace: added the late quality snapshot of window {window.id} ({labelled} labelled) to {args.project}")
        return
    runs = reports.run(
        reference, current, window, metadata=_metadata(window, args), drift_share=args.drift_share, estimate=estimate
    )
    summary = reports.summarize(
        runs, reference, current, window, bucket=bucket.url, reference_key=args.reference, report_key=report_key
    )
    drifted = ", ".join(c.column for c in summary.drifted_columns) or "none"
    dataset = "drifted" if summary.dataset_drift.drifted else "not drifted"
    _say(
        out,
        f"drift: {summary.dataset_drift.drifted_columns} of {len(contract.FEATURES)} feature columns drifted "
        f"(dataset {dataset}); drifted columns: {drifted}",
    )
    _say(out, _fairness_line(summary.fairness, attributes.objects))
    if summary.quality is None:
        _say(out, "quality: skipped, no labelled predictions in the window")
    else:
        q = summary.quality
        auc = "n/a (one outcome only)" if q.roc_auc is None else f"{q.roc_auc:.3f}"
        log_loss = "n/a" if q.log_loss is None else f"{q.log_loss:.3f}"
        _say(out, f"quality: {q.labelled_rows} labelled rows, ROC AUC {auc}, log loss {log_loss}")

    if args.workspace:
        from monitoring.workspace import add_runs, open_workspace

        ids = add_runs(open_workspace(args.workspace), args.project, runs.snapshots)
        _say(out, f"workspace: added {len(ids)} snapshot(s) to project {args.project} in {args.workspace}")

    bucket.write(report_key, reports.html(runs).encode("utf-8"))
    bucket.write(summary_key, summary.to_json().encode("utf-8"))
    _say(out, f"wrote {report_key} and {summary_key} to {bucket.url} in {time.monotonic() - started:.1f}s")


def _estimate(bucket: Bucket, key: str) -> Estimate | None:
    """The CBPE estimate in the drift function's record of the window; None when it has none."""
    import json

    from monitoring.summary import Estimate

    try:
        record = json.loads(bucket.read(key))
    except ValueError as e:
        raise MonitoringError(f"{key}: not a JSON window record ({e})") from None
    est = record.get("estimate") if isinstance(record, dict) else None
    if not est:
        return None
    try:
        return Estimate(**{field: float(est[field]) for field in contract.ESTIMATE_FIELDS.values()})
    except (KeyError, TypeError, ValueError) as e:
        raise MonitoringError(f"{key}: the estimate lacks {e}; not a record of the drift function") from None


def _fairness_line(fairness: Fairness | None, objects: int) -> str:
    """The window's fairness figures in one line."""
    if fairness is None:
        return (
            f"fairness: skipped, no prediction joined with a customer attribute "
            f"({objects} objects under {contract.ATTRIBUTES_PREFIX})"
        )
    groups = ", ".join(
        f"{name} {g.rows} rows" + ("" if g.mean_probability is None else f" mean {g.mean_probability:.4f}")
        for name, g in fairness.groups.items()
    )
    figures = f"{groups}, {fairness.unknown_rows} unknown"
    protected, reference = fairness.protected_group, fairness.reference_group
    if fairness.disparate_impact is None:
        return f"fairness: {figures}; no disparate impact {protected}/{reference} without rows of both groups"
    verdict = "FLAGGED, outside" if fairness.flagged else "within"
    return (
        f"fairness: {figures}; disparate impact {protected}/{reference} {fairness.disparate_impact:.3f} "
        f"({verdict} [{fairness.lower:.2f}, {fairness.upper:.2f}])"
    )


def _metadata(window: contract.Window, args: argparse.Namespace) -> dict[str, str]:
    """Snapshot metadata: enough to find the window's objects from the workspace."""
    return {
        "window_id": window.id,
        "window_from": window.start.isoformat(),
        "window_to": window.end.isoformat(),
        "reference": args.reference,
    }


def _dashboard(args: argparse.Namespace, out: TextIO) -> None:
    from monitoring import dashboard
    from monitoring.workspace import open_workspace

    workspace = open_workspace(args.workspace)
    added = dashboard.apply(workspace, args.project)
    _say(out, f"dashboard: {len(added)} panels in tab {dashboard.TAB!r}")
    _say(out, f"wrote the dashboard of project {args.project} in {args.workspace}")


def _ui(args: argparse.Namespace, out: TextIO) -> None:
    from monitoring import ui

    _say(out, f"serving {args.workspace} at http://{args.host}:{args.port}/ (Ctrl-C stops)")
    ui.serve(args.workspace, args.host, args.port)


def _say(out: TextIO, line: str) -> None:
    print(line, file=out, flush=True)


if __name__ == "__main__":
    sys.exit(main())
