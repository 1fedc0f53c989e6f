"""Write each notebook from its text twin and store it executed, with its outputs.

``python docs/run_notebooks.py [NAME ...]`` reads ``docs/NAME.md`` (jupytext), runs it from top
to bottom in ``docs/`` and writes ``docs/NAME.ipynb`` with every output, so a repository viewer
shows the figures and numbers. ``tests/test_notebooks.py`` runs each stored notebook again and
checks that its printed outputs are the ones stored.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

DOCS = Path(__file__).resolve().parent
NOTEBOOKS = ("tutorial", "theorems", "pretraining", "claims_break")


def execute(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Run ``notebook`` in ``docs/`` (in place) and return it."""
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(DOCS)}})  # fmt: skip
    client.execute()
    return notebook


def main(names: list[str]) -> None:
    for name in names or NOTEBOOKS:
        notebook = jupytext.read(DOCS / f"{name}.md")
        execute(notebook)
        nbformat.write(notebook, DOCS / f"{name}.ipynb")
        print(f"docs/{name}.ipynb written with its outputs", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
