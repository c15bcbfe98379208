"""The comparison of a notebook run with its stored outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
from notebookshape import differences

TABLE = """<table><thead><tr><th></th><th>auc</th><th>gini</th></tr></thead>
<tbody>{rows}</tbody></table>"""


def notebook(path: Path, text: str, rows: int, figure: bool = True) -> Path:
    nb = nbformat.v4.new_notebook()
    html = TABLE.format(rows="".join(f"<tr><th>{i}</th><td>0.70{i}</td><td>0.4{i}</td></tr>" for i in range(rows)))
    outputs = [nbformat.v4.new_output("stream", name="stdout", text=text),
               nbformat.v4.new_output("execute_result", data={"text/html": html, "text/plain": "..."}, execution_count=1)]
    if figure:
        outputs.append(nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"}))
    nb.cells = [nbformat.v4.new_markdown_cell("# A lab"), nbformat.v4.new_code_cell("x = 1", outputs=outputs)]
    nbformat.write(nb, path)
    return path


def test_other_numbers_and_ids_are_the_same_shape(tmp_path: Path) -> None:
    stored = notebook(tmp_path / "stored.ipynb", "run 97f0d0ef251c43878cbeff31911d4934: Gini 0.4061\n", 3)
    fresh = notebook(tmp_path / "fresh.ipynb", "run 4a1b2c3d4e5f60718293a4b5c6d7e8f9: Gini 0.4058\n", 3)
    assert differences(stored, fresh) == []


def test_other_words_rows_or_outputs_differ(tmp_path: Path) -> None:
    stored = notebook(tmp_path / "stored.ipynb", "Gini 0.4061\n", 3)
    for fresh, what in [
        (notebook(tmp_path / "a.ipynb", "AUC 0.7030\n", 3), "other words"),
        (notebook(tmp_path / "b.ipynb", "Gini 0.4061\n", 4), "one more row"),
        (notebook(tmp_path / "c.ipynb", "Gini 0.4061\n", 3, figure=False), "no figure"),
    ]:
        found = differences(stored, fresh)
        assert len(found) == 1 and found[0].startswith("stored.ipynb, code cell 1: stored"), what


def test_a_notebook_stored_without_outputs_is_reported(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, tmp_path / "bare.ipynb")
    fresh = notebook(tmp_path / "fresh.ipynb", "Gini\n", 1)
    assert differences(tmp_path / "bare.ipynb", fresh) == ["bare.ipynb, code cell 1: no output is stored (run notebooks/run.py --inplace to store them)"]


def test_a_stream_split_in_two_writes_is_the_same_shape(tmp_path: Path) -> None:
    stored = notebook(tmp_path / "stored.ipynb", "registered\ncreated version 1\n", 2)
    nb = nbformat.read(stored, as_version=4)
    first, *rest = nb.cells[1].outputs
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="registered\n"),
                           nbformat.v4.new_output("stream", name="stdout", text="created version 2\n"), *rest]
    nbformat.write(nb, tmp_path / "split.ipynb")
    assert differences(stored, tmp_path / "split.ipynb") == []


def test_stdout_and_stderr_in_either_order_are_the_same_shape(tmp_path: Path) -> None:
    """A CI run stored MLflow's stderr lines before the cell's print and got
    them after it: the two streams race, their order is no part of the shape."""
    stored = notebook(tmp_path / "stored.ipynb", "candidate is version 1\n", 2)
    nb = nbformat.read(stored, as_version=4)
    first, *rest = nb.cells[1].outputs
    log = nbformat.v4.new_output("stream", name="stderr", text="Created version '1'.\n")
    nb.cells[1].outputs = [log, first, *rest]
    nbformat.write(nb, tmp_path / "before.ipynb")
    nb.cells[1].outputs = [first, log, *rest]
    nbformat.write(nb, tmp_path / "after.ipynb")
    assert differences(tmp_path / "before.ipynb", tmp_path / "after.ipynb") == []
    # Words still count, on either stream.
    nb.cells[1].outputs = [first, nbformat.v4.new_output("stream", name="stderr", text="Failed to register.\n"), *rest]
    nbformat.write(nb, tmp_path / "other.ipynb")
    assert len(differences(tmp_path / "before.ipynb", tmp_path / "other.ipynb")) == 1
