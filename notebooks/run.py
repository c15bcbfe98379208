"""Run a lab notebook from top to bottom and print what it shows.

    .venv/bin/python notebooks/run.py notebooks/lab2-data.ipynb

JupyterLab (`make notebooks`) is the place to work in a notebook cell by
cell. This script is for the terminal: it executes every cell in a fresh
kernel (the Python of .venv), prints each section's heading and each cell's
text output (tables as text, a figure as one line), and writes the executed
notebook, outputs included, to $CLAIMRISK_HOME/notebooks/ (~/.claimrisk/notebooks),
outside the repository, so the stored notebook stays as it is. A failing cell
stops it with the cell's error.

--inplace writes the outputs into the notebook itself instead: that is how
the stored outputs of notebooks/ are updated.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = Path(__file__).resolve().parent


def home() -> Path:
    return Path(os.environ.get("CLAIMRISK_HOME") or Path.home() / ".claimrisk")


def text_of(output: nbformat.NotebookNode) -> str:
    """What a terminal can show of one output."""
    kind = output.get("output_type")
    if kind == "stream":
        return output.get("text", "")
    if kind == "error":
        return "\n".join(output.get("traceback", []))
    data = output.get("data", {})
    if "text/plain" in data and not any(k.startswith("image/") for k in data):
        return data["text/plain"]
    for mime in data:
        if mime.startswith("image/"):
            return f"[a figure ({mime}): open the notebook in JupyterLab to see it]"
    return ""


def show(nb: nbformat.NotebookNode, out=sys.stdout) -> None:  # noqa: ANN001
    """Print the outputs, each section's heading before its first output."""
    heading = ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
            if first.startswith("## "):
                heading = first[3:].strip()
            continue
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            text = text_of(output).rstrip("\n")
            if not text:
                continue
            if heading:
                print(f"\n== {heading}", file=out)
                heading = ""
            print(text, file=out)


def main() -> int:
    parser = argparse.ArgumentParser(description="Run a lab notebook and print what it shows.")
    parser.add_argument("notebook", type=Path, help="a notebook of notebooks/, such as notebooks/lab2-data.ipynb")
    parser.add_argument("--inplace", action="store_true", help="store the outputs in the notebook itself")
    parser.add_argument("--timeout", type=int, default=600, help="seconds a cell may take (default 600)")
    args = parser.parse_args()
    if not args.notebook.is_file():
        print(f"run.py: {args.notebook}: no such notebook (they are in notebooks/)", file=sys.stderr)
        return 2
    nb = nbformat.read(args.notebook, as_version=4)
    # The kernel listens on loopback only; its warning about unencrypted TCP is not for participants.
    client = NotebookClient(nb, kernel_name="python3", timeout=args.timeout, record_timing=False,
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],
                            resources={"metadata": {"path": str(args.notebook.resolve().parent)}})  # fmt: skip
    print(f"running {args.notebook} ...", flush=True)
    try:
        client.execute()
    except CellExecutionError as err:
        show(nb)
        print(f"\nrun.py: {args.notebook} stopped at a failing cell:\n{err}", file=sys.stderr)
        return 1
    show(nb)
    if args.inplace:
        target = args.notebook
    else:
        target = home() / "notebooks" / args.notebook.name
        target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    print(f"\nthe notebook with its outputs: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
