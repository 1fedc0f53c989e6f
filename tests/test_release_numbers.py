"""Today's exact analysis gives the numbers of the release before the factored passes, to 1e-12.

The file was written by that release (``tests/release_numbers.py`` says how); nothing in it is
computed by the code under test.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from release_numbers import DATA, cases
from strategies import min_length

from lookaround.theory.analysis import analyze
from lookaround.theory.blankets import factored_path
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source
from lookaround.theory.sources import Source, source_from_dict

TOL = 1e-12
RELEASE = json.loads(DATA.read_text())
SOURCES = list({json.dumps(c["source"]): c["source"] for c in RELEASE["cases"]}.values())


def _source(spec: str | dict) -> Source:
    return preset_source(spec) if isinstance(spec, str) else source_from_dict(spec)


def _label(case: dict) -> str:
    spec = case["source"]
    name = spec if isinstance(spec, str) else f"{spec['family']}{SOURCES.index(spec)}"
    return f"{name}-{case['objective']}"


def _assert_same(got: dict, expected: dict, where: str) -> None:
    """Every field the release wrote, at its value; fields added since are not asked for."""
    for key, value in expected.items():
        assert key in got, f"{where}: {key} is gone"
        if isinstance(value, (bool, int, str)) or value is None:
            assert got[key] == value, f"{where}: {key}"
        else:
            np.testing.assert_allclose(got[key], value, rtol=0, atol=TOL, err_msg=f"{where}: {key}")


@pytest.mark.parametrize("case", RELEASE["cases"], ids=_label)
def test_the_numbers_are_the_releases(case):
    numbers = analyze(_source(case["source"]), case["objective"], case["k"]).to_dict()
    for level in ("context", "sample"):
        _assert_same(numbers[level], case[level], f"{_label(case)} {level}")


def test_the_file_holds_every_case_in_its_domain_and_every_path_is_taken():
    held = [(json.dumps(c["source"]), c["objective"]) for c in RELEASE["cases"]]
    asked = [(json.dumps(c["source"]), c["objective"]) for c in cases()
             if min_length(c["objective"]) <= _source(c["source"]).length]  # fmt: skip
    assert held == asked and len(held) >= 150
    paths = Counter(
        factored_path(
            source := _source(c["source"]), parse_objective(c["objective"], source.length)
        )
        for c in RELEASE["cases"]
    )
    assert paths[None] > 0 and paths["blankets"] > 0 and paths["hidden"] > 0
