"""One name per quantity, from the JSON to the attribute, and one set of spellings per input."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import lookaround
from lookaround.base.reprs import number, short_repr
from lookaround.theory.analysis import ContextLevel, SampleLevel, analyze
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source
from lookaround.theory.sources import save_source


@pytest.fixture(scope="module")
def result():
    return analyze("markov", "mlm:2", 2)


def test_every_printed_name_of_a_level_is_its_attribute(result):
    """What ``summary()``, ``to_frame()`` and the JSON print is what Python holds."""
    for level in (result.context, result.sample):
        record = level.to_dict()
        connectivity = set(level.connectivity.to_dict() if hasattr(level.connectivity, "to_dict")
                           else vars(level.connectivity))  # fmt: skip
        degree = {"effective_degree_se", "effective_degree_rows"}
        for key, value in record.items():
            if key in connectivity:
                assert getattr(level.connectivity, key) == value
            elif key in degree or key == "effective_degree":
                continue  # one EffectiveDegree, flattened into three keys
            elif key in ("holds", "subspace_unique"):
                assert getattr(level, key) == value
            else:
                held = getattr(level, key)
                held = held.tolist() if isinstance(held, np.ndarray) else held
                assert (list(held) if isinstance(held, tuple) else held) == value, key
    assert isinstance(result.context, ContextLevel) and isinstance(result.sample, SampleLevel)
    assert result.context.phi == result.to_dict()["context"]["phi"]
    assert result.sample.alpha == result.to_dict()["sample"]["alpha"]


def test_a_level_has_only_its_own_names(result):
    with pytest.raises(AttributeError):
        result.context.alpha  # noqa: B018
    with pytest.raises(AttributeError):
        result.sample.singular_values  # noqa: B018


def test_the_old_names_warn_and_still_answer(result):
    for level, values, measure in ((result.context, "singular_values", "phi"),
                                   (result.sample, "eigenvalues", "alpha")):  # fmt: skip
        with pytest.warns(DeprecationWarning, match=f"use .{values}"):
            old = level.spectrum
        assert np.array_equal(old, getattr(level, values))
        with pytest.warns(DeprecationWarning, match=f"use .{measure}"):
            assert level.disagreement == getattr(level, measure)


def test_the_level_method_is_typed_by_its_name(result):
    assert result.level("context") is result.context
    assert result.level("sample") is result.sample


ENTRY_POINTS = {
    "analyze": lambda s, o: lookaround.analyze(s, o, 2).level("context").phi,
    "generation_report": lambda s, o: lookaround.generation_report(s, o).total_excess,
    "build_cooccurrence": lambda s, o: lookaround.build_cooccurrence(s, o).matrix.sum(),
    "monte_carlo": lambda s, o: lookaround.monte_carlo(s, o, 2, 500)["context"].values.phi.estimate,
    "estimate_context": lambda s, o: (
        lookaround.estimate_context(s, o, 2, 500, bootstrap=2).values.phi.estimate
    ),
    "simulate": lambda s, o: lookaround.simulate(s, o, steps=3, n_train=500, n_eval=50).gap,
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_every_entry_point_takes_every_spelling(name, tmp_path):
    """A name, a ``Source``, a path to its JSON; an objective's name or an ``Objective``:
    the same numbers."""
    source = preset_source("markov")
    path = tmp_path / "markov.json"
    save_source(source, path)
    call = ENTRY_POINTS[name]
    reference = call(source, parse_objective("mlm:2", source.length))
    for spelled in ("markov", path, str(path)):
        assert call(spelled, "mlm:2") == reference, spelled


@pytest.mark.parametrize("bad, field", [(3, "source"), (None, "source")])
def test_a_source_of_the_wrong_type_names_the_parameter(bad, field):
    with pytest.raises(TypeError, match=f"^{field} must be a Source"):
        lookaround.analyze(bad, "ar", 2)


def test_an_objective_of_the_wrong_type_names_the_parameter():
    with pytest.raises(TypeError, match="^objective must be an Objective"):
        lookaround.generation_report("markov", 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="^winner must be an Objective"):
        lookaround.certify("markov", 2, "ar", metric="phi", k=1, better="lower")  # type: ignore[arg-type]


def test_check_takes_one_name_or_path_not_its_letters(tmp_path):
    path = Path(tmp_path) / "markov.json"
    save_source(preset_source("markov"), path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = lookaround.check(path, n_train=500, n_eval=50, steps=2)
    assert result.sources == (str(path),)
    assert "sources=('" in repr(result) and "',)" in repr(result)


def test_summaries_show_what_they_exist_to_show():
    report = lookaround.generation_report("markov", "mlm:2")
    lines = report.summary().splitlines()
    weights = next(line for line in lines if line.strip().startswith("weights"))
    assert "..." not in weights, weights
    check = lookaround.check("markov", n_train=500, n_eval=50, steps=2)
    text = check.summary()
    assert "claim  markov" in text and "H holds everywhere" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_rounding_residue_prints_as_zero():
    assert number(2.95592e-32) == "0" and number(-1e-13) == "0"
    assert number(1e-11) == "1e-11" and number(0.5) == "0.5"
    text = analyze("topic", "ar", 2).summary()
    assert "e-16" not in text and "e-32" not in text
    assert short_repr(analyze("topic", "ar", 2).context).startswith("ContextLevel(k=2")
