"""Every closed form of theory.symbolic against the numbers of theory."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from lookaround.cli import main
from lookaround.theory.analysis import analyze
from lookaround.theory.coverage import alignment, prefix_weights
from lookaround.theory.objectives import parse_objective
from lookaround.theory.sources import source_from_dict
from lookaround.theory.symbolic import (
    DERIVATIONS,
    TWO_CLASS_OBJECTIVES,
    J,
    T,
    coverage_forms,
    derive,
    eps,
    l,
    m,
    two_class_s2_squared,
    two_class_source_spec,
)


@pytest.mark.parametrize("name", sorted(DERIVATIONS))
def test_every_derivation_verifies_its_checks(name):
    derivation = derive(name)
    assert derivation.checks and all(derivation.checks.values())


CONCRETE = {
    "ar": "ar",
    "prefixlm": "prefixlm",
    "vmlm": "vmlm",
    "plm": "plm",
    "ar:last": "ar:last",
    "dar:J": "dar:{J}",
    "mlm:m": "mlm:{m}",
    "span:m": "span:{m}",
}


@pytest.mark.parametrize("form", sorted(CONCRETE))
@pytest.mark.parametrize("length, reach, masks", [(3, 2, 1), (5, 2, 2), (7, 3, 3), (9, 4, 2)])
def test_coverage_closed_forms_match_numerics(form, length, reach, masks):
    weight, chi = coverage_forms()[form]
    objective = parse_objective(CONCRETE[form].format(J=reach, m=masks), length)
    values = {T: length, J: reach, m: masks}
    expected = [float(weight.subs({**values, l: k})) for k in range(1, length)]
    np.testing.assert_allclose(prefix_weights(objective), expected, rtol=1e-12, atol=0)
    numeric = alignment(prefix_weights(objective))
    closed = chi.subs(values)
    if closed is sp.oo:
        assert numeric == math.inf
    else:
        assert numeric == pytest.approx(float(closed), rel=1e-12)


@pytest.mark.parametrize("spec", TWO_CLASS_OBJECTIVES)
@pytest.mark.parametrize("overlap", [0.05, 0.2, 0.37, 0.49])
def test_two_class_spectrum_matches_numerics(spec, overlap):
    source = source_from_dict(two_class_source_spec(overlap))
    numeric = (
        analyze(source, parse_objective(spec, 3), 1, level="context")
        .level("context")
        .singular_values[1]
        ** 2
    )
    closed = float(two_class_s2_squared(spec).subs(eps, overlap))  # type: ignore[arg-type]
    assert numeric == pytest.approx(closed, abs=1e-12)


def test_derive_cli(capsys):
    assert main(["derive", "--list"]) == 0
    assert capsys.readouterr().out.split() == list(DERIVATIONS)
    assert main(["derive", "coverage", "--latex"]) == 0
    assert "\\frac" in capsys.readouterr().out
    assert main(["derive", "nope"]) == 2
    assert "unknown derivation 'nope'" in capsys.readouterr().err
