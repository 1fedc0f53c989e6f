"""Ties decided at the numbers' precision (docs/theory.md §4.6).

The sources in tests/data are built to be hard: a token permutation swaps two classes, so the
two class scores of every context tie exactly wherever the top-``k`` subspace is even under the
swap, and a crossing of the swap's even and odd singular values puts ``s_(k+1)`` within 1e-7 (or
2.5e-9) of ``s_k``. Near such a crossing the float scores of tied classes differ by far more than
the stated ``TIE_TOL``, so that rule alone lets rounding split them. The reference is an
independent 50-digit computation (tests/brute.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from brute import context_probe_50_digits

import lookaround.theory.bounds as bounds
from lookaround.cli import main
from lookaround.simulations.metrics import METRICS, ExactSource, unsettled
from lookaround.theory.analysis import analyze
from lookaround.theory.bounds import spectral_readout
from lookaround.theory.cooccurrence import iter_blocks
from lookaround.theory.numerics import TIE_TOL
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source
from lookaround.theory.sources import load_source
from lookaround.theory.spectral import target_side_pass

DATA = Path(__file__).parent / "data"
CHUNKS = (100, 1000, 10**4, 2**20)
CASES = (("tied_crossing", "dar:2", 2), ("tied_crossing_closer", "dar:2", 2))


@pytest.mark.parametrize(("name", "spec", "k"), CASES)
def test_the_sources_are_the_hard_case(name, spec, k):
    """Exact ties (50 digits) whose float scores differ by more than the stated tolerance at
    some chunk size the tests below use (how far rounding moves them depends on the order of
    the sums, and so on the chunk size)."""
    source = load_source(DATA / f"{name}.json")
    exact, gaps = context_probe_50_digits(source, spec, k)
    assert exact == 0.5 and gaps.max() < 1e-40
    objective = parse_objective(spec, source.length)
    apart = []
    for chunk in CHUNKS:
        blocks = [(b.cooccurrence, b.class_joint) for b in iter_blocks(source, objective, chunk)]
        readout = spectral_readout(target_side_pass(blocks), k)
        scores = np.concatenate([rows @ readout.matrix for rows, _ in blocks])
        first, second = np.sort(scores, axis=1)[:, ::-1][:, :2].T
        apart.append(np.max((first - second) / np.abs(first)))
    assert max(apart) > TIE_TOL


@pytest.mark.parametrize(("name", "spec", "k"), CASES)
@pytest.mark.parametrize("chunk", CHUNKS)
def test_exact_ties_are_read_as_ties_at_every_chunk_size(name, spec, k, chunk):
    source = load_source(DATA / f"{name}.json")
    exact, _ = context_probe_50_digits(source, spec, k)
    context = analyze(source, spec, k, level="context", chunk=chunk).level("context")
    assert context.subspace_unique  # s_k - s_(k+1) is above the 1e-9 ambiguity rule
    assert abs(context.probe_error - exact) < 1e-12
    assert context.rounding_mass > 0.5  # and it says rounding could not settle those


@pytest.mark.parametrize("chunk", CHUNKS)
def test_a_near_tie_that_is_not_a_tie_keeps_its_decision(chunk):
    """Equally near a crossing (s_4 - s_5 = 2e-9), but every score gap is above 2%: the
    perturbed readouts move none of them that far, so nothing is read as a tie."""
    source = load_source(DATA / "near_tie_crossing.json")
    exact, gaps = context_probe_50_digits(source, "ar", 4)
    assert gaps.min() > 0.02
    context = analyze(source, "ar", 4, level="context", chunk=chunk).level("context")
    assert abs(context.probe_error - exact) < 1e-12
    assert context.rounding_mass == 0.0


@pytest.mark.parametrize("name", ["markov", "hmm", "topic", "positional"])
@pytest.mark.parametrize("spec", ["ar", "mlm:2", "vmlm"])
def test_well_separated_presets_leave_nothing_to_rounding(name, spec):
    result = analyze(preset_source(name), spec, 2)
    assert result.level("context").rounding_mass == 0.0
    assert result.level("sample").rounding_mass == 0.0
    assert result.level("sample").averaged_rounding_mass == 0.0


def test_an_ambiguous_subspace_leaves_everything_to_rounding():
    context = analyze(preset_source("disjoint"), "ar", 1, level="context").level("context")
    assert not context.subspace_unique
    assert context.rounding_mass == pytest.approx(1.0)


def test_analyze_says_which_mass_rounding_decided(capsys):
    assert main(["analyze", "--source", str(DATA / "tied_crossing.json"),
                 "--objective", "dar:2", "--k", "2", "--level", "context"]) == 0  # fmt: skip
    line = next(x for x in capsys.readouterr().out.splitlines() if "top-k subspace" in x)
    assert "unique; ties at the numbers' precision" in line and "on mass 1 (probe)" in line
    assert main(["analyze", "--source", "markov", "--objective", "ar", "--k", "2"]) == 0
    assert "ties at the numbers' precision" not in capsys.readouterr().out


def test_a_comparison_within_the_rounding_mass_is_not_decided():
    exact = ExactSource(load_source(DATA / "tied_crossing.json"))
    metric = METRICS["averaged_probe_error"]
    sample = exact.analysis("dar:2", 2).level("sample")
    assert sample.averaged_rounding_mass is not None and sample.averaged_rounding_mass > 0.5
    reason = unsettled(exact, metric, winner="dar:2", other="ar", k=2)
    assert reason.startswith("within rounding: the sides differ by")
    assert (
        unsettled(ExactSource(preset_source("markov")), metric, winner="dar:2", other="ar", k=2)
        == ""
    )


def test_near_ties_read_a_few_rows_at_a_time_change_nothing(monkeypatch):
    source = load_source(DATA / "tied_crossing.json")
    whole = analyze(source, "dar:2", 2, level="context").level("context")
    monkeypatch.setattr(bounds, "NEAR_ROWS", 3)
    parts = analyze(source, "dar:2", 2, level="context").level("context")
    assert whole.rounding_mass > 0.5  # most rows are near a tie, so they come in many parts
    assert parts.probe_error == whole.probe_error
    assert abs(parts.rounding_mass - whole.rounding_mass) < 1e-12  # summed in another order
