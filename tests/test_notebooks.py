"""The notebooks run from top to bottom on the sample data (executed, not just parsed)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
_executed: dict[str, nbformat.NotebookNode] = {}


def executed(name: str) -> nbformat.NotebookNode:
    """The notebook after running every cell (once per test session)."""
    if name not in _executed:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        for cell in nb.cells:  # committed with outputs cleared
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None
        NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
        ).execute()
        _executed[name] = nb
    return _executed[name]


def _stream_text(nb: nbformat.NotebookNode) -> str:
    return "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream"
    )


@pytest.mark.parametrize("name", ["quickstart.ipynb", "burundi_events.ipynb", "uncertainty.ipynb"])
def test_notebook_runs_without_errors(name):
    nb = executed(name)
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors == []


def test_burundi_totals_and_independent_check():
    text = _stream_text(executed("burundi_events.ipynb"))
    assert "1991 geomines 734,462" in text and "1992 geomines 95,162" in text


def test_quickstart_shows_the_map_inline_offline():
    nb = executed("quickstart.ipynb")
    html = "".join(
        o.get("data", {}).get("text/html", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "<iframe srcdoc=" in html and "cdn.jsdelivr" not in html


def test_uncertainty_states_the_range_the_curve_and_children():
    text = _stream_text(executed("uncertainty.ipynb"))
    assert "GPW count: inside" in text and "GPW count 2x2 (derived): inside" in text
    assert "range inside:" in text and "children_under_5: inside" in text
    assert "no bin is split" in text
