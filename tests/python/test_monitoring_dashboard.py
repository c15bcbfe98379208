"""The workspace over successive windows, its dashboard, and the dashboard in a browser.

Three weekly windows go into one workspace: the first through a real
`python -m monitoring report` process, the others in this process to keep
the suite fast. The browser test serves the workspace with `python -m
monitoring ui` (which execs Evidently's own `evidently ui` command of the
same environment), opens the project in headless Chromium and checks that
every panel drew data, then saves the screenshot used in the docs. The
bucket holds the sex of every customer, so the fairness panel has a point
per window for each group.
"""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import require_tool
from ports import free_port
from test_monitoring_data import (
    UTC,
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

from monitoring import dashboard
from monitoring.__main__ import main

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
START = datetime(2025, 4, 7, tzinfo=UTC)
WEEK = timedelta(days=7)
SHIFTS = [Shift(), Shift(age_years=3), Shift(age_years=6, mileage_factor=1.609)]
LABELLED = [300, 150, 0]


@dataclass(frozen=True)
class Workspace:
    path: Path
    project_id: str
    dashboard_output: str


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("bucket")
    path = tmp_path_factory.mktemp("evidently") / "workspace"
    rng = np.random.default_rng(31)
    attribute_rng = np.random.default_rng(32)  # apart, so the windows' data stay as they were
    reference = policies(rng, 900, START - 8 * WEEK, START, tag="ref")
    key = write_reference(root, "run-7", reference, outcomes(rng, reference))
    write_attributes(root, "dataset-run-7", sexes(attribute_rng, reference))
    for i, (shift, labelled) in enumerate(zip(SHIFTS, LABELLED, strict=True)):
        window = resample(rng, reference, 400, START + i * WEEK, START + (i + 1) * WEEK, shift, tag=f"w{i}-")
        write_predictions(root, window)
        write_attributes(root, f"traffic-{i}", sexes(attribute_rng, window))
        if labelled:
            write_feedback(root, feedback_for(window.iloc[:labelled], outcomes(rng, window.iloc[:labelled])))

    windows = [(START + i * WEEK, START + (i + 1) * WEEK) for i in range(len(SHIFTS))]
    first = subprocess.run(
        [sys.executable, "-m", "monitoring", "report", "--bucket", str(root), "--reference", key,
         "--from", windows[0][0].isoformat(), "--to", windows[0][1].isoformat(), "--workspace", str(path)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-2] == f"workspace: added 2 snapshot(s) to project claim-risk in {path}"
    for start, end in windows[1:]:
        run = run_report(root, key, start, end, "--workspace", str(path))
        assert run.status == 0, run.stdout
    out = io.StringIO()
    assert main(["dashboard", "--workspace", str(path)], out=out) == 0
    (project,) = [p for p in path.iterdir() if p.is_dir() and (p / "snapshots").is_dir()]
    return Workspace(path, project.name, out.getvalue())


def test_each_window_adds_snapshots_stamped_with_its_end(workspace: Workspace) -> None:
    from evidently.ui.workspace import Workspace as EvidentlyWorkspace

    ws = EvidentlyWorkspace(str(workspace.path))
    (project,) = ws.search_project("claim-risk")
    runs = [ws.get_run(project.id, snapshot_id) for snapshot_id in ws.list_runs(project.id)]
    seen = sorted((run.timestamp, tuple(run.tags), run.metadata["window_id"]) for run in runs if run is not None)
    # Two runs (drift, quality) for the labelled weeks, one for the last; stamped with the week's end in UTC.
    assert seen == [
        (datetime(2025, 4, 14), ("drift",), "20250407T000000Z-20250414T000000Z"),
        (datetime(2025, 4, 14), ("quality",), "20250407T000000Z-20250414T000000Z"),
        (datetime(2025, 4, 21), ("drift",), "20250414T000000Z-20250421T000000Z"),
        (datetime(2025, 4, 21), ("quality",), "20250414T000000Z-20250421T000000Z"),
        (datetime(2025, 4, 28), ("drift",), "20250421T000000Z-20250428T000000Z"),
    ]


def test_dashboard_has_the_panels_once(workspace: Workspace) -> None:
    from evidently.ui.workspace import Workspace as EvidentlyWorkspace

    assert main(["dashboard", "--workspace", str(workspace.path)], out=io.StringIO()) == 0  # again: an update
    ws = EvidentlyWorkspace(str(workspace.path))
    (project,) = ws.search_project("claim-risk")
    model = ws.get_dashboard(project.id)
    assert [tab.title for tab in model.tabs] == [dashboard.TAB]
    titles = [panel.title for panel in model.panels]
    assert titles == [panel.title for panel in dashboard.panels()]
    assert {
        "Share of drifted feature columns",
        "Drift score per key feature",
        "Mean predicted claim probability",
        "Mean predicted probability by sex",
        "Quality on labelled predictions",
        "Rows per window",
    } <= set(titles)
    by_title = {panel.title: panel for panel in model.panels}
    drift_columns = {v.metric_labels["column"] for v in by_title["Drift score per key feature"].values}
    assert {"age", "annual_mileage", "home_area"} <= drift_columns
    assert {v.metric for v in by_title["Quality on labelled predictions"].values} == {
        "evidently:metric_v2:RocAuc",
        "evidently:metric_v2:LogLoss",
    }
    by_sex = by_title["Mean predicted probability by sex"].values
    assert [(v.metric, v.metric_labels, v.tags) for v in by_sex] == [
        ("evidently:metric_v2:MeanValue", {"column": "probability_f"}, ["drift"]),
        ("evidently:metric_v2:MeanValue", {"column": "probability_m"}, ["drift"]),
    ]
    assert workspace.dashboard_output.splitlines()[-1].startswith("wrote the dashboard of project claim-risk")


@pytest.mark.parametrize("required", [False, True])
def test_missing_tool_skips_unless_required(required: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMRISK_REQUIRE_TOOLS", "1" if required else "0")
    expected = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(expected, match="frobnicator is not available: apt-get install frobnicator"):
        require_tool("frobnicator", False, "apt-get install frobnicator")
    require_tool("frobnicator", True, "unused")  # present: nothing happens


@pytest.fixture
def ui(workspace: Workspace) -> Iterator[str]:
    """`python -m monitoring ui` on a free port; its base URL once it answers."""
    available = all(
        importlib.util.find_spec(m) is not None for m in ("evidently.ui.service.app", "uvicorn", "litestar")
    )
    require_tool("evidently ui", available, "install evidently with its UI service (uvicorn, litestar)")
    port = free_port()
    log = workspace.path.parent / "ui.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "monitoring", "ui", "--workspace", str(workspace.path), "--port", str(port)],
            cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "DO_NOT_TRACK": "1"},
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/version", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"evidently ui did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# What each panel must show once its data arrived: lines or bars drawn, or a counter's number.
PANEL_DATA_JS = """() => [...document.querySelectorAll('h5')].map(h => {
    const card = h.closest('.MuiCard-root') || h.parentElement.parentElement;
    const lines = [...card.querySelectorAll('path[class*="MuiLineElement-root"]')]
        .filter(p => (p.getAttribute('d') || '').length > 10).length;
    const marks = card.querySelectorAll('[class*="MuiMarkElement-root"]').length;
    const bars = card.querySelectorAll('[class*="MuiBarElement-root"]').length;
    return {title: h.textContent, lines, marks, bars, text: card.innerText};
})"""


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium, driven by playwright (whose own browser download is never used)."""
    playwright_ok = importlib.util.find_spec("playwright") is not None
    require_tool("chromium", CHROMIUM.exists() and playwright_ok, "needs /usr/bin/chromium and the playwright package")
    return CHROMIUM


def test_dashboard_renders_with_data_in_chromium(workspace: Workspace, chromium: Path, ui: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(chromium),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
            viewport={"width": 1400, "height": 1000},
        )
        try:
            page = browser.new_page()
            page.goto(f"{ui}/projects/{workspace.project_id}", wait_until="networkidle")
            page.get_by_text("Rows per window", exact=True).wait_for(timeout=30_000)
            # Charts animate in; wait until every chart panel has drawn something.
            page.wait_for_function(
                f"() => ({PANEL_DATA_JS})().every(p => p.lines + p.bars > 0 || /\\d/.test(p.text))",
                timeout=30_000,
            )
            page.wait_for_timeout(1500)
            panels = {p["title"]: p for p in page.evaluate(PANEL_DATA_JS)}
            # Kept with pytest's temporary files (the path is printed on failure), to look at.
            screenshot = workspace.path.parent / "dashboard.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    assert set(panels) >= {panel.title for panel in dashboard.panels()}
    # Three drift runs: one line per series, with a mark per window.
    assert panels["Share of drifted feature columns"]["lines"] == 1
    assert panels["Drift score per key feature"]["lines"] == 3
    assert panels["Drift score per key feature"]["marks"] >= 9
    assert panels["Mean predicted claim probability"]["marks"] >= 3
    # Both groups in every window: two lines, three points each.
    assert panels["Mean predicted probability by sex"]["lines"] == 2
    assert panels["Mean predicted probability by sex"]["marks"] >= 6
    # Two labelled weeks: ROC AUC and log loss, two points each.
    assert panels["Quality on labelled predictions"]["lines"] == 2
    assert panels["Predicted and observed claim rate"]["lines"] == 2
    # Three bars of predictions, two of labelled rows.
    assert panels["Rows per window"]["bars"] == 5
    # The counters show the last window: 400 predictions, two of nine feature columns drifted (age, mileage).
    assert "400" in panels["Predictions"]["text"]
    assert "0.22" in panels["Drifted feature columns"]["text"]
    assert "No data" not in "".join(p["text"] for p in panels.values())
    assert screenshot.stat().st_size > 50_000, screenshot
