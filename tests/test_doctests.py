"""Every docstring example of the installed package runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib

import pytest
from packages import module_names

# Collected from the installed package, not from the source folders: a user runs these
# examples against ``lookaround.theory``, so that is the import the examples must work under.


def _examples() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = []
    for name in module_names():
        tests += [t for t in finder.find(importlib.import_module(name)) if t.examples]
    return tests


EXAMPLES = _examples()


def test_every_module_is_collected():
    assert {"lookaround.cli", "lookaround.theory.analysis", "lookaround.figures.render"} <= set(
        module_names()
    )
    assert len(EXAMPLES) >= 48


@pytest.mark.parametrize("test", EXAMPLES, ids=[t.name for t in EXAMPLES])
def test_docstring_example(test: doctest.DocTest):
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    report: list[str] = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
