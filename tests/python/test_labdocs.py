"""The lab pages' markers and the tolerant output comparison."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from labdocs import matches, normalize, parse

PAGE = """# A lab

## 1. Start

<!-- run: background -->
```bash
bin/claimrisk up
```

```text
claimrisk is up; Ctrl-C stops everything:
```

## 2. Look

Prose.

<!-- run -->
```bash title="Terminal 1"
bin/claimrisk runs list
```

Not its output: prose comes first.

```text
RUN  KIND
```

=== "Tab"

    <!-- run: fails, retry 30 -->
    ```bash
    bin/claimrisk lab check 2
    ```

    ```text
    lab 2: Data and a baseline model
    todo  no dataset ...
    ```

## Exercises

### Exercise 9.1: Restart

??? success "Solution"

    <!-- run: background, restart -->
    ```bash
    CLAIMRISK_MIN_GINI=0.45 bin/claimrisk up
    ```

<!-- skip: downloads 900,000 rows -->
```bash
bin/claimrisk data fetch-crashes
```

```bash
echo not marked
```
"""


def test_parse_finds_marked_blocks_with_options_and_outputs(tmp_path: Path) -> None:
    page = tmp_path / "lab-9.md"
    page.write_text(PAGE)
    blocks = parse(page)
    assert [(b.code, b.heading) for b in blocks] == [
        ("bin/claimrisk up\n", "1. Start"),
        ("bin/claimrisk runs list\n", "2. Look"),
        ("bin/claimrisk lab check 2\n", "2. Look"),
        ("CLAIMRISK_MIN_GINI=0.45 bin/claimrisk up\n", "Exercises"),
        ("bin/claimrisk data fetch-crashes\n", "Exercises"),
    ]
    up, runs, check, restart, fetch = blocks
    assert restart.background and restart.restart and restart.exercise == "Exercise 9.1: Restart"
    assert not check.exercise and check.where == "lab-9.md:32 (2. Look)"
    assert up.background and up.expected == "claimrisk is up; Ctrl-C stops everything:"
    assert runs.expected is None  # prose between: not an expected output
    assert check.fails and check.retry == 30 and check.expected == "lab 2: Data and a baseline model\ntodo  no dataset ..."
    assert fetch.skip_reason == "downloads 900,000 rows"


def test_parse_refuses_restart_without_background(tmp_path: Path) -> None:
    page = tmp_path / "lab-9.md"
    page.write_text("<!-- run: restart -->\n```bash\nbin/claimrisk up\n```\n")
    with pytest.raises(ValueError, match="restart is an option of a background block"):
        parse(page)


def test_parse_refuses_unknown_options(tmp_path: Path) -> None:
    page = tmp_path / "lab-9.md"
    page.write_text("<!-- run: sometimes -->\n```bash\ntrue\n```\n")
    with pytest.raises(ValueError, match="unknown run option 'sometimes'"):
        parse(page)


@pytest.mark.parametrize(
    ("line", "want"),
    [
        ("run-de0cec4acfce  glm-accident  c868cee26679f17d  2026-11-29 20:51  0.7030", "run-<id> glm-accident <id> <n>-<n>-<n> <n> <n>"),
        ("generated 13,669 customers, 40,000 policies (2021 to 2024)", "generated <n> customers, <n> policies (<n> to <n>)"),
        ("drift report 20261129T205107.147Z: DRIFT DETECTED", "drift report <n>T<n>Z: DRIFT DETECTED"),
        ("  ok    the   prediction API", "ok the prediction API"),
        ("accident-spike deadline", "accident-spike deadline"),  # words of hex letters alone stay
        ('"claim_probability":0.02514240573581747,', '"claim_probability":<n>,'),  # a decimal is a number
        ("Q-1001  0.0438  low  claim-risk v12  (model v2, 2000 rows) dev3", "Q-<n> <n> low claim-risk v12 (model v2, <n> rows) dev<n>"),
    ],
)
def test_normalize_masks_numbers_and_ids(line: str, want: str) -> None:
    assert normalize(line) == want


def test_matches_an_excerpt_in_order() -> None:
    actual = "uploading a\nuploaded dataset 1f2e3d4c5b6a7980 to file:///x/\ntrained: 3 run(s)\nregistered: v1 promoted to champion: first\n"
    assert matches("uploaded dataset c868cee26679f17d to file:///x/\n...\nregistered: v1 promoted ...", actual) == (True, "")
    assert matches("registered: v1 promoted ...\ntrained: 3 run(s)", actual) == (False, "trained: 3 run(s)")
    assert matches("registered: v1 rejected ...", actual) == (False, "registered: v1 rejected ...")
    assert matches("uploaded dataset ... to file:///x/", actual) == (True, "")
    assert matches("uploaded ... to file:///y/", actual) == (False, "uploaded ... to file:///y/")


def test_every_picture_on_the_site_exists() -> None:
    """mkdocs --strict does not check images; a missing screenshot would show as a broken picture."""
    docs = Path(__file__).resolve().parents[2] / "docs"
    missing = []
    for page in docs.rglob("*.md"):
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", page.read_text()):
            if "://" not in target and not (page.parent / target).resolve().exists():
                missing.append(f"{page.relative_to(docs)}: {target}")
    assert not missing, "pictures that do not exist: " + ", ".join(missing)
