"""The shape of a notebook's outputs, to compare a fresh run with the stored one.

The lab notebooks are stored with their outputs, and their prose explains
those outputs. A fresh run on the same seeded data gives other ids, times
and, here and there, a last digit; it must not give other kinds of output,
other columns, other rows or other words. `shape` reduces each code cell's
outputs to what must stay: the kind of each output, its MIME types, and its
text with numbers and ids masked as the lab pages' outputs are
(labdocs.normalize), or, for an HTML table, its header and its number of
rows. `differences` lists where two notebooks' shapes part.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from labdocs import normalize

_ROW = re.compile(r"<tr[ >]")
_HEADER = re.compile(r"<th[^>]*>(.*?)</th>", re.S)


def _text_shape(text: str) -> list[str]:
    return [n for n in (normalize(line) for line in text.splitlines()) if n]


def _output_shape(output: dict) -> tuple:
    kind = output.get("output_type", "")
    if kind == "stream":
        return (kind, output.get("name", ""), tuple(_text_shape(output.get("text", ""))))
    if kind == "error":
        return (kind, output.get("ename", ""))
    data = output.get("data", {})
    mimes = tuple(sorted(data))
    if "text/html" in data:
        html = data["text/html"]
        html = "".join(html) if isinstance(html, list) else html
        headers = tuple(normalize(re.sub(r"<[^>]+>", "", h)) for h in _HEADER.findall(html))
        return (kind, mimes, "table", headers, len(_ROW.findall(html)))
    if "text/plain" in data and not any(m.startswith("image/") for m in mimes):
        return (kind, mimes, tuple(_text_shape(data["text/plain"])))
    return (kind, mimes)


def _coalesced(outputs: list) -> list[dict]:
    """Each run of stream writes as one output per stream, stderr then stdout:
    how a kernel splits a stream into writes, and how stdout and stderr
    interleave, is timing (MLflow logs to stderr while the cell prints)."""
    out: list[dict] = []
    run: dict[str, dict] = {}

    def end_run() -> None:
        out.extend(run[name] for name in sorted(run))
        run.clear()

    for o in outputs:
        if o.get("output_type") == "stream":
            name = o.get("name", "")
            run[name] = {**run[name], "text": run[name].get("text", "") + o.get("text", "")} if name in run else dict(o)
        else:
            end_run()
            out.append(dict(o))
    end_run()
    return out


def shape(nb: nbformat.NotebookNode) -> list[tuple[int, list[tuple]]]:
    """Each code cell's number (counting code cells from 1) with its outputs' shapes."""
    cells = [c for c in nb.cells if c.cell_type == "code"]
    return [(i, [_output_shape(o) for o in _coalesced(c.get("outputs", []))]) for i, c in enumerate(cells, 1)]


def differences(stored: Path, fresh: Path) -> list[str]:
    """Where the fresh run's outputs differ in shape from the stored ones."""
    a, b = shape(nbformat.read(stored, as_version=4)), shape(nbformat.read(fresh, as_version=4))
    out = []
    if len(a) != len(b):
        return [f"{stored.name}: {len(a)} code cells stored, {len(b)} run"]
    for (i, want), (_, got) in zip(a, b, strict=True):
        if not want and got:
            out.append(f"{stored.name}, code cell {i}: no output is stored (run notebooks/run.py --inplace to store them)")
        elif want != got:
            out.append(f"{stored.name}, code cell {i}: stored {want!r}, the run gave {got!r}")
    return out
