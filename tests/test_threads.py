"""The thread budget: numbers independent of it, BLAS restored after it, workers held to one."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from lookaround.base.errors import InputError
from lookaround.base.threads import (
    ENVIRONMENT,
    current_budget,
    producer_allowed,
    thread_budget,
)
from lookaround.cli import main
from lookaround.theory import costs, spectral
from lookaround.theory.analysis import analyze
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source
from lookaround.theory.sources import source_from_dict


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_a_streamed_pass_gives_the_same_bits_with_and_without_its_producer_thread(monkeypatch):
    # 265,719 context rows under ar at V = 3, T = 12: more than two chunks, so a budget of 2
    # builds the next chunk on a second thread, and a budget of 1 does not
    rng = np.random.default_rng(7)
    source = source_from_dict({
        "family": "markov", "prior": [0.5, 0.5], "length": 12,
        "init": rng.dirichlet(np.ones(3), size=2).tolist(),
        "trans": rng.dirichlet(np.ones(3), size=(2, 3)).tolist(),
    })  # fmt: skip
    objective = parse_objective("ar", source.length)
    started, real = [], spectral.in_background

    def recorded(items):
        started.append(1)
        return real(items)

    monkeypatch.setattr(spectral, "in_background", recorded)
    monkeypatch.setattr(costs, "CACHE_FLOATS", 1000)  # streamed: the blocks are rebuilt per pass
    one = analyze(source, objective, 2, level="context", threads=1)
    assert not started
    two = analyze(source, objective, 2, level="context", threads=2)
    assert started  # the producer ran under the budget of two
    a, b = one.level("context"), two.level("context")
    assert np.array_equal(a.singular_values, b.singular_values)
    assert (a.phi, a.probe_error, a.bound) == (b.phi, b.probe_error, b.bound)


@pytest.mark.parametrize("spec", ["ar", "vmlm"])
def test_numbers_do_not_depend_on_the_thread_budget(spec):
    source = preset_source("hmm")
    objective = parse_objective(spec, source.length)
    # a small chunk makes the pass streamed, so the budget of 2 runs the producer thread
    one, two = (analyze(source, objective, 2, chunk=40, threads=n) for n in (1, 2))
    for level in ("context", "sample"):
        a, b = one.level(level), two.level(level)
        np.testing.assert_allclose(
            getattr(a, a.spectrum_name), getattr(b, b.spectrum_name), rtol=0, atol=1e-12
        )
        for name in (a.disagreement_name, "probe_error", "bound"):
            assert abs(getattr(a, name) - getattr(b, name)) <= 1e-12


def test_blas_is_held_to_one_thread_inside_and_restored_even_on_error():
    before = _blas_threads()
    with pytest.raises(RuntimeError, match="abandoned"), thread_budget(2):
        assert set(_blas_threads()) <= {1}
        raise RuntimeError("a pass abandoned midway")
    assert _blas_threads() == before


def test_the_budget_decides_the_producer_thread(monkeypatch):
    with thread_budget(1):
        assert current_budget() == 1 and not producer_allowed()
        with thread_budget(3):
            assert producer_allowed()
        assert not producer_allowed()  # the inner budget ended with its block
    monkeypatch.setenv(ENVIRONMENT, "1")
    assert current_budget() == 1 and not producer_allowed()
    monkeypatch.setenv(ENVIRONMENT, "two")
    with pytest.raises(InputError, match="LOOKAROUND_THREADS must be an integer >= 1"):
        current_budget()


@pytest.mark.parametrize("value", ["0", "-2", "x"])
def test_threads_option_is_checked_in_one_line(capsys, value):
    code = main(["analyze", "--source", "topic", "--objective", "ar", "--k", "1", "--threads",
                 value])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "threads" in err and err.count("\n") == 1
