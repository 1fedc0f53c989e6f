"""The notebooks are stored with their outputs, match their text twins, and a fresh run from top
to bottom prints exactly what is stored and shows the same figures inline."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

DOCS = Path(__file__).resolve().parent.parent / "docs"
# name -> figures the notebook must show inline
NOTEBOOKS = {"tutorial": 3, "theorems": 3, "pretraining": 1, "claims_break": 1}
REWRITE = "run: python docs/run_notebooks.py {name}"


def _code(notebook) -> list[str]:
    return [cell.source.strip() for cell in notebook.cells if cell.cell_type == "code"]


def _printed(notebook) -> list[list[str]]:
    """Per code cell, its printed text (consecutive writes to one stream joined) and
    plain-text results; figures counted, not drawn (their bytes depend on the renderer), and
    object addresses left out."""
    cells = []
    for cell in (c for c in notebook.cells if c.cell_type == "code"):
        texts = []
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                # one stream's text may arrive in several messages (timing): join them
                head = f"{out.name}: "
                if texts and texts[-1].startswith(head):
                    texts[-1] += out.text
                else:
                    texts.append(head + out.text)
            elif "image/png" in out.get("data", {}):
                texts.append("figure")
            elif "text/plain" in out.get("data", {}):
                texts.append(re.sub(r" at 0x[0-9a-f]+", "", out.data["text/plain"]))
        cells.append(texts)
    return cells


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_notebooks_match_their_twins_and_hold_outputs(name):
    text = jupytext.read(DOCS / f"{name}.md")
    stored = nbformat.read(DOCS / f"{name}.ipynb", as_version=4)
    assert _code(text) == _code(stored), REWRITE.format(name=name)
    printed = _printed(stored)
    assert sum(texts.count("figure") for texts in printed) == NOTEBOOKS[name], REWRITE
    assert sum(map(len, printed)) > NOTEBOOKS[name], "stored without its printed outputs"


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_fresh_run_prints_what_is_stored(name):
    stored = nbformat.read(DOCS / f"{name}.ipynb", as_version=4)
    fresh = nbformat.read(DOCS / f"{name}.ipynb", as_version=4)
    for cell in fresh.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    NotebookClient(
        fresh, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(DOCS)}}
    ).execute()
    errors = [o for c in fresh.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    for number, (now, then) in enumerate(zip(_printed(fresh), _printed(stored)), start=1):
        assert now == then, f"code cell {number} of {name} prints otherwise; " + REWRITE.format(
            name=name
        )
