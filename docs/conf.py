"""Sphinx configuration of the lookaround documentation (``sphinx-build -W docs OUT``)."""

from importlib.metadata import version as _version

project = "lookaround"
author = "The lookaround developers"
copyright = "2026, The lookaround developers"
release = _version("lookaround")
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
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
    "long_description.md",  # the wheel's description, not a page of the site
]

# Notebooks are stored with their outputs (docs/run_notebooks.py writes them) and a test runs
# each again and checks it prints what is stored, so the site shows them as stored: no
# execution at build time, and no jupyter_execute/ folder left behind.
nb_execution_mode = "off"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
myst_heading_anchors = 3

# One page per module, function and class (api.rst, _templates/autosummary), written into
# docs/generated while the site builds and removed when it is done: no leftovers in the tree.
autosummary_generate = True
autosummary_ignore_module_all = False  # a module's page lists what its __all__ exports
templates_path = ["_templates"]

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_typehints = "none"  # numpydoc's Parameters sections already state the types
autodoc_member_order = "bysource"
suppress_warnings = ["myst.header"]

html_theme = "alabaster"
html_static_path = ["_static"]
html_css_files = ["wrap.css"]  # doctest lines wrap rather than being cut off
html_title = f"lookaround {release}"


def _remove_generated(app, exception) -> None:
    import shutil
    from pathlib import Path

    shutil.rmtree(Path(app.srcdir) / "generated", ignore_errors=True)


def setup(app) -> None:
    app.connect("build-finished", _remove_generated)
