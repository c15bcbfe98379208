"""Retake the screenshots of the lab pages from a fresh, running system.

    make screenshots        (or: .venv/bin/python tests/screenshots.py)
    .venv/bin/python tests/screenshots.py --site    (the site itself, offline)

It starts `bin/claimrisk up` on free ports with a temporary CLAIMRISK_HOME,
plays the labs far enough for each picture, photographs MLflow, the
prediction API's /docs page and the Evidently dashboard in headless Chromium
(Debian's /usr/bin/chromium driven by playwright; no browser is downloaded),
and stops the system. The pictures go to docs/images/:

    lab3-mlflow-runs.png        the runs table of claim-risk, Model training view, with out-of-time metrics
    lab3-mlflow-artifacts.png   the artifacts of the glm-accident run
    lab3-mlflow-compare.png     the comparison of the three runs of lab 2
    lab3-mlflow-registry.png    the registered model claim-risk with the alias champion
    lab4-api-docs.png           the prediction API's /docs page
    lab5-evidently-dashboard.png the Evidently dashboard after ordinary traffic and the accident spike

With --site it photographs the workshop's site instead, built with mkdocs
and served from this machine, with every request that leaves 127.0.0.1
refused, as a room without Wi-Fi would see it:

    site-exercise-collapsed.png    lab 2's exercise 2.1 with its solution folded away
    site-lab-overview-offline.png  the lab overview with its two Mermaid diagrams drawn offline
    site-instructor-kit.png        the instructor kit's first page
    site-slides.png                the first slides of the instructor kit

Look at each picture after retaking it: the lab pages describe what it shows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from ports import free_port, free_run  # noqa: E402  (the lab tests' reserved ports)
BIN = Path(os.environ.get("CLAIMRISK_BIN") or REPO / "bin")
IMAGES = REPO / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip


def wait_for(what: str, cond: Callable[[], bool], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            sys.exit(f"screenshots: gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(1)


class System:
    """`claimrisk up` in a temporary home, and the CLI pointed at it."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not (k.startswith("CLAIMRISK_") or k.startswith("MLFLOW_") or k == "K_SINK")}
        self.env["CLAIMRISK_HOME"] = str(home)
        base = free_run(5)
        home.mkdir(parents=True)
        self.log = (home / "up.log").open("w")
        # The Evidently job runs `python -m monitoring`, so up starts in the repository.
        self.proc = subprocess.Popen(
            [str(BIN / "claimrisk"), "up", "--drift-interval", "0", "--base-port", str(base),
             "--mlflow-port", str(free_port()), "--evidently-port", str(free_port())],
            cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        state = home / "up.json"

        def up() -> bool:
            if self.proc.poll() is not None:
                self.stop()
                sys.exit(f"screenshots: claimrisk up exited; see {home / 'up.log'}")
            return state.exists()

        wait_for("claimrisk up", up)
        self.urls = {c["name"]: c["url"] for c in json.loads(state.read_text())}
        print("system up:", self.urls, flush=True)

    def cli(self, *args: str) -> str:
        out = subprocess.run([str(BIN / "claimrisk"), *args], cwd=self.home, env=self.env, capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            sys.exit(f"screenshots: claimrisk {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
        print(f"$ claimrisk {' '.join(args)}\n{out.stdout}", flush=True)
        return out.stdout

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        # If up died without stopping its children (each runs in its own
        # process group), stop those that run in this home.
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"CLAIMRISK_HOME={self.home}".encode() in environ:
                try:
                    os.kill(int(pid), signal.SIGTERM)
                except OSError:
                    pass


def mlflow_shots(page, mlflow: str) -> None:  # noqa: ANN001 (playwright's Page)
    page.goto(mlflow + "/#/experiments", wait_until="domcontentloaded")
    page.get_by_text("Model training", exact=True).first.click()
    page.get_by_role("link", name="claim-risk").first.click()
    page.get_by_text("matching runs").wait_for(timeout=60_000)
    close = page.get_by_role("button", name="Close")  # the MLflow Assistant panel
    if close.count():
        close.first.click()
    page.get_by_role("button", name="Columns").click()
    search = page.get_by_placeholder("Search columns")
    for column in ("valid_auc", "valid_gini", "valid_log_loss", "Source", "Models"):  # add three, remove two
        search.fill(column)
        page.wait_for_timeout(300)
        page.get_by_text(column, exact=True).last.click()
    page.keyboard.press("Escape")
    page.wait_for_timeout(1500)
    page.screenshot(path=IMAGES / "lab3-mlflow-runs.png")

    # The comparison of the three runs.
    # The header's select-all box comes first; hidden boxes (in closed menus) are skipped.
    boxes = [box for box in page.get_by_role("checkbox").all() if box.is_visible()]
    for box in boxes[1:4]:
        box.click()
    page.get_by_role("button", name="Compare").click()
    page.get_by_text("Parameters").first.wait_for(timeout=60_000)
    page.wait_for_timeout(3000)
    page.screenshot(path=IMAGES / "lab3-mlflow-compare.png", full_page=False)

    # One run's artifacts.
    page.go_back()
    page.get_by_text("matching runs").wait_for(timeout=60_000)
    page.get_by_role("link", name="glm-accident").first.click()
    page.get_by_role("tab", name="Artifacts").click()
    page.get_by_text("metrics.json").first.wait_for(timeout=60_000)
    page.get_by_text("plots", exact=True).first.click()  # the plots are in a folder
    page.get_by_text("calibration.png").first.click()
    page.wait_for_timeout(3000)
    page.screenshot(path=IMAGES / "lab3-mlflow-artifacts.png")

    # The registered model and its aliases.
    page.goto(mlflow + "/#/models/claim-risk", wait_until="domcontentloaded")
    page.get_by_text("champion").first.wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    page.screenshot(path=IMAGES / "lab3-mlflow-registry.png")


def evidently_shot(page, ui: str, workspace: Path) -> None:  # noqa: ANN001
    (project,) = [p for p in workspace.iterdir() if p.is_dir() and (p / "snapshots").is_dir()]
    page.goto(f"{ui}/projects/{project.name}", wait_until="networkidle")
    page.get_by_text("Rows per window", exact=True).wait_for(timeout=60_000)
    # Charts animate in: wait until the line and bar charts have drawn.
    page.wait_for_function(
        "() => document.querySelectorAll('path[class*=\"MuiLineElement-root\"]').length >= 8"
        " && document.querySelectorAll('[class*=\"MuiBarElement-root\"]').length >= 4",
        timeout=60_000,
    )
    page.wait_for_timeout(2000)
    page.screenshot(path=IMAGES / "lab5-evidently-dashboard.png", full_page=True)


def site_shots() -> None:
    """The site, built and served locally, photographed with the network off."""
    import functools
    import http.server
    import threading
    from urllib.parse import urlparse

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="claimrisk-site-") as tmp:
        out = Path(tmp) / "site"
        env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
        subprocess.run([str(REPO / ".venv" / "bin" / "mkdocs"), "build", "--strict", "--quiet", "--site-dir", str(out)], cwd=REPO, env=env, check=True)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out)))
        server.RequestHandlerClass.log_message = lambda *a: None
        threading.Thread(target=server.serve_forever, daemon=True).start()
        site = f"http://127.0.0.1:{server.server_address[1]}"

        def local_only(route) -> None:  # noqa: ANN001
            if urlparse(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                print("refused", route.request.url)
                route.abort("internetdisconnected")

        with sync_playwright() as p:
            browser = p.chromium.launch_persistent_context(
                str(Path(tmp) / "chromium"), executable_path=CHROMIUM, headless=True,
                args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
                viewport={"width": 1400, "height": 900},
            )  # fmt: skip
            browser.route("**/*", local_only)
            page = browser.new_page()
            page.goto(f"{site}/labs/lab-2/", wait_until="load")
            heading = page.locator("h3", has_text="Exercise 2.1")
            page.evaluate("h => window.scrollTo(0, h.getBoundingClientRect().top + window.scrollY - 80)", heading.element_handle())
            page.wait_for_timeout(500)
            page.screenshot(path=IMAGES / "site-exercise-collapsed.png")

            page.goto(f"{site}/labs/", wait_until="load")
            page.wait_for_function("document.querySelectorAll('div.mermaid').length === 2", timeout=60_000)
            # Scroll down only: scrolling up shows Material's "Back to top" button.
            page.evaluate("window.scrollTo(0, document.getElementById('the-system').getBoundingClientRect().top + window.scrollY - 70)")
            page.wait_for_timeout(500)
            page.screenshot(path=IMAGES / "site-lab-overview-offline.png")

            page.goto(f"{site}/instructor/", wait_until="load")
            page.wait_for_timeout(500)
            page.screenshot(path=IMAGES / "site-instructor-kit.png")
            page.goto(f"{site}/instructor/slides/", wait_until="load")
            page.wait_for_timeout(500)
            page.screenshot(path=IMAGES / "site-slides.png")
            browser.close()
        server.shutdown()
    for name in sorted(IMAGES.glob("site-*.png")):
        print("wrote", name.relative_to(REPO))


def main() -> None:
    from playwright.sync_api import sync_playwright

    if "--site" in sys.argv[1:]:
        site_shots()
        return

    if not Path(CHROMIUM).exists():
        sys.exit(f"screenshots: {CHROMIUM} is missing (apt-get install chromium)")
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="claimrisk-screenshots-") as tmp:
        system = System(Path(tmp) / "home")
        try:
            data = Path(tmp) / "data"
            system.cli("data", "generate", "--out", str(data))
            system.cli("data", "upload", "--dir", str(data), "--wait", "5m")
            with sync_playwright() as p:
                browser = p.chromium.launch_persistent_context(
                    str(Path(tmp) / "chromium"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                    viewport={"width": 1400, "height": 860},
                )  # fmt: skip
                page = browser.new_page()
                mlflow_shots(page, system.urls["mlflow"])
                page.goto(system.urls["predict"] + "/docs", wait_until="networkidle")
                page.screenshot(path=IMAGES / "lab4-api-docs.png")

                system.cli("simulate", "--scenario", "none")
                system.cli("drift", "check")
                # The dashboard's x axis is the window's end: a minute apart, the
                # two windows are two points, not one vertical line.
                time.sleep(70)
                system.cli("simulate", "--scenario", "accident-spike", "--seed", "8", "--policies", "3000")
                system.cli("drift", "check")
                summaries = system.home / "bucket" / "drift" / "evidently"
                wait_for("the Evidently job's two reports", lambda: len(list(summaries.glob("*/summary.json"))) >= 2)
                evidently_shot(page, system.urls["evidently"], system.home / "evidently")
                browser.close()
        finally:
            system.stop()
    for name in sorted(IMAGES.glob("lab*.png")):
        print("wrote", name.relative_to(REPO))


if __name__ == "__main__":
    main()
