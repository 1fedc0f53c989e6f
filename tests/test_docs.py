"""The documentation site builds with warnings as errors, and every page it needs exists."""

from __future__ import annotations

import enum
import importlib
import importlib.util
import inspect
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from packages import PACKAGES, module_names

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_sphinx_site_builds_without_warnings(tmp_path):
    # the notebooks are stored executed (tests/test_notebooks.py checks their outputs)
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(ROOT / "docs"), str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    for page in ("index", "theory", "tutorial", "theorems", "gallery", "json", "api"):
        assert (tmp_path / f"{page}.html").exists(), page
    # a page per module and per object, and nothing left in the source tree
    assert (tmp_path / "generated" / "lookaround.theory.bounds.probe_bound.html").exists()
    assert (tmp_path / "generated" / "lookaround.theory.analysis.Analysis.html").exists()
    assert not (ROOT / "docs" / "generated").exists()
    assert not (ROOT / "docs" / "jupyter_execute").exists()


def test_every_module_has_its_api_page():
    listed = set(
        re.findall(r"^   (lookaround\.\S+)$", (ROOT / "docs" / "api.rst").read_text(), re.M)
    )
    modules = set(module_names()) - set(PACKAGES)
    # the command line's package holds main() and the parser's assembly itself
    assert listed == modules | {"lookaround.cli"}


def test_gallery_shows_every_figure():
    from lookaround.figures.render import catalog, gallery_page

    gallery = (ROOT / "docs" / "gallery.md").read_text()
    assert gallery == gallery_page(), "run: python docs/make_gallery.py"
    shown = re.findall(r"!\[(\w+)\]\(figures/(\w+)\.png\)", gallery)
    assert [name for name, _ in shown] == list(catalog())
    for _, name in shown:
        assert (ROOT / "docs" / "figures" / f"{name}.png").exists()


@pytest.mark.skipif(
    not (ROOT / ".git").exists(),
    reason="lists tracked files: needs a git checkout, not an unpacked sdist",
)
def test_no_file_cites_a_theory_file_outside_the_repository():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    text_files = [f for f in tracked if f.endswith((".py", ".md", ".toml", ".cff", ".rst"))]
    outside = "THEORY" + ".md"  # spelled in two parts so that this file does not match itself
    assert [f for f in text_files if outside in (ROOT / f).read_text()] == []


def _exported():
    """Every function and class a module of the package exports and defines."""
    for name in module_names():
        if name.startswith("lookaround.figures") and importlib.util.find_spec("matplotlib") is None:
            continue
        module = importlib.import_module(name)
        for attribute in getattr(module, "__all__", []):
            value = getattr(module, attribute)
            if getattr(value, "__module__", None) == name and callable(value):
                yield f"{name}.{attribute}", value


def _documented(doc: str) -> set[str]:
    """Names in the docstring's Parameters and Attributes sections (``a, b : type`` lines)."""
    lines, names, inside = doc.splitlines(), set(), False
    for i, line in enumerate(lines):
        header = i + 1 < len(lines) and bool(line.strip()) and set(lines[i + 1].strip()) == {"-"}
        if header:
            inside = line.strip() in ("Parameters", "Attributes")
        elif inside and line and not line.startswith(" ") and not set(line) <= {"-"}:
            names |= {n.strip().lstrip("*") for n in line.split(" : ")[0].split(",")}
    return names


@pytest.mark.parametrize(("name", "value"), sorted(_exported(), key=lambda item: item[0]),
                         ids=lambda item: item if isinstance(item, str) else "")  # fmt: skip
def test_every_exported_name_documents_its_parameters(name, value):
    if isinstance(value, type) and (
        issubclass(value, enum.Enum) or getattr(value, "_is_protocol", False) or typing.is_typeddict(value)
        or (issubclass(value, BaseException) and "__init__" not in vars(value))
    ):  # fmt: skip
        return  # members, methods, keys or a message are what these take
    parameters = [p for p in inspect.signature(value).parameters if p != "self"]
    missing = set(parameters) - _documented(inspect.getdoc(value) or "")
    assert not missing, f"{name}: {sorted(missing)} not in its Parameters or Attributes"


@pytest.mark.parametrize(("name", "value"), sorted(_exported(), key=lambda item: item[0]),
                         ids=lambda item: item if isinstance(item, str) else "")  # fmt: skip
def test_wide_exported_functions_take_their_options_by_keyword(name, value):
    if not inspect.isfunction(value):
        return
    parameters = inspect.signature(value).parameters.values()
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert len(parameters) < 4 or len(positional) < len(parameters), name
