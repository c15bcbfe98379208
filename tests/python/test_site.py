"""The workshop's site works offline: built with mkdocs, served from this
machine, and opened in headless Chromium with every request that leaves
127.0.0.1 refused, its Mermaid diagrams draw and no page asks the network for
anything. The vendored Mermaid script is the one its checksum names.

Chromium is Debian's /usr/bin/chromium, driven by playwright (whose own
browser download is never used), started with a fresh profile and with
background networking, component updates and first-run tasks off.
"""

from __future__ import annotations

import functools
import re
import hashlib
import http.server
import importlib.util
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import require_tool

REPO = Path(__file__).resolve().parents[2]
VENDOR = REPO / "docs" / "javascripts" / "vendor"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 # a name that is not this machine resolves to nothing
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]  # fmt: skip

# The pages with diagrams, and how many each draws.
DIAGRAMS = {"labs/index.html": 2, "foundations/index.html": 1}


def test_vendored_mermaid_matches_its_checksum() -> None:
    sums = (VENDOR / "SHA256SUMS").read_text().split()
    assert len(sums) == 2, "SHA256SUMS names one file"
    digest, name = sums
    assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, f"{name} is not the file its checksum names"
    config = (REPO / "mkdocs.yml").read_text()
    assert f"javascripts/vendor/{name}" in config, f"mkdocs.yml does not load {name}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site, built with --strict and served on a free loopback port."""
    mkdocs = REPO / ".venv" / "bin" / "mkdocs"
    require_tool("the project's Python environment", mkdocs.exists(), "make venv")
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run([str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(out)], cwd=REPO,
                           capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stdout}{build.stderr}"
    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def chromium() -> Path:
    playwright_ok = importlib.util.find_spec("playwright") is not None
    require_tool("chromium", CHROMIUM.exists() and playwright_ok, "needs /usr/bin/chromium (apt-get install chromium) and the playwright package")
    return CHROMIUM


@pytest.mark.parametrize(("path", "diagrams"), DIAGRAMS.items())
def test_diagrams_draw_with_the_network_off(site: str, chromium: Path, tmp_path: Path, path: str, diagrams: int) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    refused: list[str] = []

    def only_this_machine(route) -> None:  # noqa: ANN001 (playwright's Route)
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=str(chromium), headless=True,
                                                       args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})  # fmt: skip
        try:
            browser.route("**/*", only_this_machine)
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{site}/{path}", wait_until="load")
            # Material replaces each <pre class="mermaid"> with a <div class="mermaid">
            # holding the drawn SVG (in a closed shadow root) once Mermaid has run.
            try:
                page.wait_for_function(f"document.querySelectorAll('div.mermaid').length === {diagrams}", timeout=30_000)
            except PlaywrightTimeout:
                pytest.fail(f"{path}: the {diagrams} diagram(s) did not draw in 30 s with the network off; "
                            f"requests refused: {refused or 'none'}; script errors: {errors or 'none'}", pytrace=False)  # fmt: skip
            sizes = page.eval_on_selector_all("div.mermaid", "els => els.map(e => [e.offsetWidth, e.offsetHeight])")
            raw = page.evaluate("document.querySelectorAll('pre.mermaid, .mermaid > code').length")
            text = page.inner_text("article")
        finally:
            browser.close()
    assert not errors, f"{path}: script errors: {errors}"
    assert raw == 0, f"{path}: {raw} diagram(s) still show as code"
    assert all(w > 200 and h > 40 for w, h in sizes), f"{path}: diagrams without a drawing: {sizes}"
    assert "flowchart LR" not in text and "sequenceDiagram" not in text, f"{path}: the diagrams' source shows as text"
    assert not refused, f"{path}: the page asked the network for {refused}"


def test_slides_print_one_per_page(site: str, chromium: Path, tmp_path: Path) -> None:
    """The instructor kit's slides print one slide (one h2) per landscape page."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{site}/instructor/slides/", wait_until="load")
            slides = page.evaluate("document.querySelectorAll('.slides h2').length")
            pdf = page.pdf(prefer_css_page_size=True)
        finally:
            browser.close()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert slides >= 12, f"only {slides} slides found inside <div class='slides'>"
    # The page's title and introduction print on a page of their own.
    assert pages == slides + 1, f"{slides} slides printed on {pages} pages; want one page each and a title page"
    landscape = len(re.findall(rb"/MediaBox\s*\[\s*0 0 841\.\d+ 59[45]\.\d+\s*\]", pdf))
    assert landscape == slides, f"{landscape} of {pages} pages are A4 landscape; want every slide's"
