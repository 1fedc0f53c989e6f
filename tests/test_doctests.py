"""Every docstring example of the installed package runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

# Collected from the installed package, not from the source folders: a user runs these
# examples against ``lookaround.theory``, so that is the import the examples must work under.
PACKAGES = (
    "lookaround",
    "lookaround.base",
    "lookaround.cli",
    "lookaround.theory",
    "lookaround.simulations",
    "lookaround.figures",
)
SKIP = {"lookaround.__main__"}  # running it would call main() on pytest's argv


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        path = importlib.import_module(package).__path__
        names.append(package)
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules(path) if not m.ispkg]
    return sorted(set(names) - SKIP)


def _examples() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = []
    for name in _modules():
        tests += [t for t in finder.find(importlib.import_module(name)) if t.examples]
    return tests


EXAMPLES = _examples()


def test_every_module_is_collected():
    assert {"lookaround.cli", "lookaround.theory.analysis", "lookaround.figures.render"} <= set(
        _modules()
    )
    assert len(EXAMPLES) >= 48


@pytest.mark.parametrize("test", EXAMPLES, ids=[t.name for t in EXAMPLES])
def test_docstring_example(test: doctest.DocTest):
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    report: list[str] = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
