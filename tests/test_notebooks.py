"""The notebooks run from top to bottom, show their figures inline, and match their text twins."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

DOCS = Path(__file__).resolve().parent.parent / "docs"
# name -> figures the notebook must show inline
NOTEBOOKS = {"tutorial": 2, "theorems": 3, "pretraining": 1, "claims_break": 1}


def _code(notebook) -> list[str]:
    return [cell.source.strip() for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_paired_files_hold_the_same_code(name):
    text = jupytext.read(DOCS / f"{name}.md")
    stored = nbformat.read(DOCS / f"{name}.ipynb", as_version=4)
    assert _code(text) == _code(stored), f"run: jupytext --sync docs/{name}.md"
    assert not any(cell.get("outputs") for cell in stored.cells), "commit notebooks without outputs"


@pytest.mark.slow
@pytest.mark.parametrize("name, figures", NOTEBOOKS.items())
def test_notebook_executes_and_shows_its_figures(name, figures):
    notebook = nbformat.read(DOCS / f"{name}.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(DOCS)}}
    ).execute()
    outputs = [out for cell in notebook.cells for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.output_type == "error"]
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) == figures
