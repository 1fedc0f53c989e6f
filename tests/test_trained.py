"""Trained networks saved and loaded: the same bits, the same outputs, the same evaluation."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

pytest.importorskip("equinox")

from lookaround.base.errors import InputError
from lookaround.simulations import trained
from lookaround.simulations.agreement import theory_of
from lookaround.simulations.architectures import BottleneckConfig
from lookaround.simulations.pretrain import evaluate, population
from lookaround.simulations.records import record
from lookaround.simulations.trained import TrainedTransformer
from lookaround.simulations.training import TrainingConfig
from lookaround.simulations.transformer import network_outputs, pretrain_transformer
from lookaround.theory.presets import preset_source


def _leaves(run: TrainedTransformer) -> list[np.ndarray]:
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(run.model)]


@pytest.mark.parametrize(
    "architecture, loss",
    [(None, "ce"), (BottleneckConfig(width=16, bottleneck=3), "spectral")],
)
def test_a_saved_network_loads_to_the_same_bits_and_numbers(tmp_path, architecture, loss):
    source = preset_source("markov")
    run = pretrain_transformer(source, "mlm:2", config=TrainingConfig(steps=30, batch=32,
                               loss=loss), architecture=architecture, seed=3)  # fmt: skip
    again = TrainedTransformer.load(run.save(tmp_path / "run.eqx"))
    assert [a.tobytes() for a in _leaves(again)] == [a.tobytes() for a in _leaves(run)]
    assert (again.config, again.architecture, again.objective, again.seed, again.causal) == (
        run.config, run.architecture, run.objective, run.seed, run.causal)  # fmt: skip
    assert np.array_equal(again.curve, run.curve)
    assert np.array_equal(again.target_mass, run.target_mass)
    pop, theory = population(source), theory_of("markov", "mlm:2")
    first, second = (evaluate(network_outputs(r, theory, pop), theory, pop, source, ks=(2,),
                              seed=0) for r in (run, again))  # fmt: skip
    assert json.dumps(record(first)) == json.dumps(record(second))


def test_what_is_not_a_saved_network_is_refused_in_one_line(tmp_path):
    path = tmp_path / "notes.eqx"
    path.write_bytes(b"plain text\n")
    with pytest.raises(InputError, match="not a saved network"):
        TrainedTransformer.load(path)


def test_an_interrupted_save_leaves_no_file(tmp_path, monkeypatch):
    run = pretrain_transformer(
        preset_source("topic"), "ar", config=TrainingConfig(steps=2, batch=8)
    )

    def broken(f, model):
        f.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(trained.eqx, "tree_serialise_leaves", broken)
    with pytest.raises(KeyboardInterrupt):
        run.save(tmp_path / "run.eqx")
    assert list(tmp_path.iterdir()) == []
