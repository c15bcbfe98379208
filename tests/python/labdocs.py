"""The lab pages as tests: find their runnable blocks and compare outputs.

A lab page (docs/labs/lab-N.md) marks a fenced block as runnable with an
HTML comment on the line above it, which the rendered page does not show:

    <!-- run -->                  run it; it must exit 0
    <!-- run: fails -->           it must exit non-zero (a mistake shown on purpose)
    <!-- run: retry 90 -->        run it again every 2 s until it passes, for up to 90 s
                                  (for outcomes that arrive in the background)
    <!-- run: background -->      start it and leave it running, as in a second terminal;
                                  its output block is what to wait for
    <!-- run: background, restart -->
                                  stop the running `claimrisk up` first (Ctrl-C in its
                                  terminal), then start this one in its place
    <!-- run: cluster -->         needs the cluster of `make cluster-up` (kind, or the
                                  source-built one): run by test_lab_cluster where
                                  CLAIMRISK_LAB_CLUSTER=1 (.ci/run's cluster step)
    <!-- run: timeout 900 -->     allow it this many seconds (default 300)
    <!-- run: containers -->      needs podman or docker (not a cluster): runs where the
                                  container tests run, and must there under
                                  CLAIMRISK_REQUIRE_TOOLS=1
    <!-- skip: REASON -->         shown but never run (it downloads, for instance)

Options combine: ``<!-- run: fails, retry 30 -->``. Exercises are ``### Exercise
N.K: title`` sections under ``## Exercises``; their solutions sit in collapsed
blocks (``??? success "Solution"``) whose marked blocks run like any other. A ``text`` block that
follows a runnable block, with only blank lines between, is its expected
output. It is compared tolerantly (see `matches`): an excerpt is fine, numbers
and ids are masked (model versions like v2 are not), "..." stands for any
text, but the words of every
shown line must appear, in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

MARKER = re.compile(r"^(?P<indent>\s*)<!--\s*(?P<kind>run|skip)\s*(?::\s*(?P<opts>.*?))?\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
SHELLS = {"bash", "sh", "shell", "console"}


@dataclass
class Block:
    """One runnable (or deliberately skipped) block of a lab page."""

    page: str
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    skip_reason: str = ""
    fails: bool = False
    retry: float = 0.0
    background: bool = False
    restart: bool = False  # a background block that replaces the running `claimrisk up`
    cluster: bool = False
    containers: bool = False  # needs a container engine (podman or docker), not a cluster
    timeout: float = 0.0  # seconds it may take; 0: the runner's default
    expected: str | None = None
    heading: str = ""  # the step the block belongs to
    exercise: str = ""  # the exercise ("### Exercise N.K: ...") of a solution, else ""

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line} ({self.exercise or self.heading})"


@dataclass
class _Fence:
    line: int
    indent: int
    lang: str
    body: list[str] = field(default_factory=list)


def _fences(lines: list[str]) -> list[tuple[int, _Fence, int]]:
    """Every fenced block: (index of the line before it, the block, index after it)."""
    out = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent = m.group("fence"), len(m.group("indent"))
        info = m.group("info").strip()
        lang = info.split()[0].lstrip("{.").rstrip("}") if info else ""
        block = _Fence(line=i + 1, indent=indent, lang=lang)
        j = i + 1
        while j < len(lines):
            close = lines[j].strip()
            if close.startswith(fence[0] * len(fence)) and set(close) == {fence[0]}:
                break
            body = lines[j]
            block.body.append(body[indent:] if body[:indent].strip() == "" else body.lstrip())
            j += 1
        out.append((i - 1, block, j + 1))
        i = j + 1
    return out


def parse(path: Path) -> list[Block]:
    """The marked blocks of a page, in order, with their expected outputs."""
    lines = path.read_text().splitlines()
    fences = _fences(lines)
    headings: dict[int, tuple[str, str]] = {}
    current, exercise = "", ""
    in_fence = {n for _, f, end in fences for n in range(f.line - 1, end)}
    for n, text in enumerate(lines):
        if n not in in_fence and text.startswith("## "):
            current, exercise = text[3:].strip(), ""
        elif n not in in_fence and text.startswith("### Exercise "):
            exercise = text[4:].strip()
        headings[n] = (current, exercise)
    blocks: list[Block] = []
    for k, (before, fence, after) in enumerate(fences):
        if before < 0:
            continue
        marker = MARKER.match(lines[before])
        if not marker:
            continue
        heading, exercise = headings[fence.line - 1]
        block = Block(page=path.name, line=fence.line, lang=fence.lang, code="\n".join(fence.body) + "\n",
                      heading=heading, exercise=exercise)  # fmt: skip
        opts = marker.group("opts") or ""
        if marker.group("kind") == "skip":
            block.skip_reason = opts or "not run by the tests"
        else:
            for opt in (o.strip() for o in opts.split(",") if o.strip()):
                if opt == "fails":
                    block.fails = True
                elif opt == "background":
                    block.background = True
                elif opt == "restart":
                    block.restart = True
                elif opt == "cluster":
                    block.cluster = True
                elif opt == "containers":
                    block.containers = True
                elif opt.startswith("retry"):
                    block.retry = float(opt.split()[1])
                elif opt.startswith("timeout"):
                    block.timeout = float(opt.split()[1])
                else:
                    raise ValueError(f"{path.name}:{before + 1}: unknown run option {opt!r}")
            if block.restart and not block.background:
                raise ValueError(f"{path.name}:{before + 1}: restart is an option of a background block")
            if block.lang not in SHELLS | {"python"}:
                raise ValueError(f"{path.name}:{fence.line}: a runnable block must be bash or python, not {block.lang!r}")
        if k + 1 < len(fences):
            nb, nxt, _ = fences[k + 1]
            between = lines[after:nb + 1]
            if nxt.lang == "text" and all(not b.strip() for b in between):
                block.expected = "\n".join(nxt.body)
        blocks.append(block)
    return blocks


# Masks, applied in this order to both the expected and the actual output.
_MASKS = [
    # ids: hexadecimal runs of 8 or more with a digit and a letter in them
    # (run ids, dataset ids, MLflow ids, hashes), not the digits of a decimal
    (re.compile(r"(?<![0-9A-Za-z.])(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{8,}(?![0-9A-Za-z])"), "<id>"),
    # numbers, with their separators (so times and dates too), but not model
    # versions: "v2" is the same in every run and says which model answered
    (re.compile(r"(?<!\bv)(?<!\d)\d+(?:[.,:]\d+)*"), "<n>"),
]
_ELLIPSIS = ("...", "…")


def normalize(line: str) -> str:
    """A line with ids and numbers masked and white space collapsed."""
    for pattern, repl in _MASKS:
        line = pattern.sub(repl, line)
    return " ".join(line.split())


def _line_matches(expected: str, actual: str) -> bool:
    """Whether an actual line shows an expected one; "..." in the expected
    line stands for any text (at its end: the line only starts so)."""
    exp, act = normalize(expected), normalize(actual)
    for dots in _ELLIPSIS[1:]:
        exp = exp.replace(dots, _ELLIPSIS[0])
    parts = [re.escape(p.strip()) for p in exp.split(_ELLIPSIS[0])]
    return re.fullmatch(r"\s*.*?\s*".join(parts), act) is not None


def matches(expected: str, actual: str) -> tuple[bool, str]:
    """Whether actual shows every line of expected, in order.

    Lines of expected that are empty or only "..." are skipped; "..." inside
    a line stands for any text. Other output lines
    may come in between: the expected output is an excerpt. Returns the
    verdict and, when it fails, the first expected line not found.
    """
    actual_lines = actual.splitlines()
    pos = 0
    for exp in expected.splitlines():
        if not exp.strip() or exp.strip() in _ELLIPSIS:
            continue
        for i in range(pos, len(actual_lines)):
            if _line_matches(exp, actual_lines[i]):
                pos = i + 1
                break
        else:
            return False, exp
    return True, ""
