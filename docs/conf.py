"""Sphinx configuration of the lookaround documentation (``sphinx-build -W docs OUT``)."""

from importlib.metadata import version as _version

project = "lookaround"
author = "The lookaround developers"
copyright = "2026, The lookaround developers"
release = _version("lookaround")
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
# The jupytext twins of the notebooks are sources for people and diffs; the site renders the
# .ipynb files. The bare figure images are shown by gallery.md.
exclude_patterns = [
    "_build",
    "tutorial.md",
    "theorems.md",
    "pretraining.md",
    "claims_break.md",
    "README.md",
]

# Notebooks are stored with their outputs (docs/run_notebooks.py writes them) and a test runs
# each again and checks it prints what is stored, so the site shows them as stored: no
# execution at build time, and no jupyter_execute/ folder left behind.
nb_execution_mode = "off"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
myst_heading_anchors = 3

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_typehints = "none"  # numpydoc's Parameters sections already state the types
autodoc_member_order = "bysource"
suppress_warnings = ["myst.header"]

html_theme = "alabaster"
html_title = f"lookaround {release}"
