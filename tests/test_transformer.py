"""Transformers pretrained under each objective's pattern law, held against the exact theory."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import chisquare

pytest.importorskip("jax")
pytest.importorskip("equinox")
pytest.importorskip("optax")

import equinox as eqx
import jax

from lookaround.base.errors import InputError
from lookaround.cli import main
from lookaround.simulations.agreement import PretrainRequest
from lookaround.simulations.architectures import ARCHITECTURES, architecture_config
from lookaround.simulations.evaluate import exact_population_clustering
from lookaround.simulations.pretrain import (
    evaluate,
    exact_outputs,
    exact_theory,
    population,
)
from lookaround.simulations.training import TrainingConfig, parameter_count, training_config
from lookaround.simulations.transformer import network_outputs, pretrain_transformer, training_batch
from lookaround.theory.analysis import analyze
from lookaround.theory.objectives import parse_objective
from lookaround.theory.pattern_laws import pattern_law
from lookaround.theory.presets import preset_source


@pytest.mark.parametrize("name", ["topic", "markov", "hmm", "sbm-walk"])
@pytest.mark.parametrize("spec", ["ar", "mlm:2", "vmlm", "dar:2"])
def test_exact_conditionals_reproduce_the_exact_probe_and_ari(name, spec):
    source = preset_source(name)
    objective = parse_objective(spec, source.length)
    pop = population(source)
    theory = exact_theory(source, objective, pop)
    ks = tuple(range(1, source.vocab + 1))
    result = evaluate(exact_outputs(theory), theory, pop, source, ks=ks)
    assert abs(result.generation_excess) < 1e-12 and abs(result.objective_excess) < 1e-12
    decided = [k for k in ks if not theory.ambiguous(k)]
    assert decided
    for k in decided:
        sample = analyze(source, objective, k, level="sample").level("sample")
        assert sample.averaged_probe_error is not None
        assert abs(result.at(k).probe_error - sample.averaged_probe_error) < 1e-9
        assert abs(result.at(k).ari - exact_population_clustering(source, objective, k).ari) < 1e-9


MASKED = ["dar:2", "mlm:2", "mlm:0.4", "vmlm", "prefixlm", "span:2", "plm", "vmlm:2-4", "aas"]


@pytest.mark.parametrize("spec", MASKED)
def test_training_draws_follow_the_pattern_law(spec):
    # chi-square of the drawn (S, i) against the exact w(omega), at level 0.001 for each
    # objective (seeded, so the verdict is fixed; the false-alarm rate of the 9 is below 1%)
    source = preset_source("markov")
    objective = parse_objective(spec, source.length)
    rng = np.random.default_rng(0)
    batch = training_batch(
        source, pattern_law(spec, source.length), draws=rng, patterns=rng, n=40_000
    )
    visible = batch["tokens"] != source.vocab
    rows = np.arange(visible.shape[0])
    assert not visible[rows, batch["position"]].any()  # the target is never visible
    index = {(p.visible, p.target): j for j, p in enumerate(objective.patterns)}
    drawn = [
        index[(tuple(int(p) for p in np.flatnonzero(v)), int(i))]
        for v, i in zip(visible, batch["position"])
    ]
    observed = np.bincount(drawn, minlength=len(objective.patterns))
    expected = objective.weights * visible.shape[0]
    assert chisquare(observed, expected).pvalue > 1e-3


def test_the_same_seed_gives_the_same_bits():
    source, config = preset_source("markov"), TrainingConfig(steps=200, batch=64)
    first = pretrain_transformer(source, "mlm:2", config=config, seed=3)
    second = pretrain_transformer(source, "mlm:2", config=config, seed=3)
    other = pretrain_transformer(source, "mlm:2", config=config, seed=4)
    assert np.array_equal(first.curve, second.curve)
    assert np.array_equal(np.asarray(first.model.embed), np.asarray(second.model.embed))
    assert not np.array_equal(first.curve, other.curve)


@pytest.fixture(scope="session")  # at worst each of the two workers trains it once (12 s)
def markov_ar():
    source = preset_source("markov")
    pop = population(source)
    theory = exact_theory(source, parse_objective("ar", source.length), pop)
    run = pretrain_transformer(source, "ar", config=TrainingConfig(steps=1000), seed=0)
    return source, pop, theory, evaluate(network_outputs(run, theory, pop), theory, pop, source,
                                         ks=(2,))  # fmt: skip


def test_ar_on_markov_reaches_the_exact_conditionals_and_probe(markov_ar):
    source, pop, theory, result = markov_ar
    exact = evaluate(exact_outputs(theory), theory, pop, source, ks=(2,))
    assert result.generation_excess < 0.005
    assert abs(result.at(2).probe_error - exact.at(2).probe_error) < 0.005


@pytest.mark.parametrize("spec", ["mlm:2", "vmlm", "dar:2", "ar:last"])
def test_population_cross_entropy_never_beats_the_exact_entropy(markov_ar, spec):
    source, pop, _, trained = markov_ar
    assert np.all(trained.excess_per_length >= -1e-12) and trained.objective_excess >= -1e-12
    theory = exact_theory(source, parse_objective(spec, source.length), pop)
    run = pretrain_transformer(source, spec, config=TrainingConfig(steps=100, batch=64))
    result = evaluate(network_outputs(run, theory, pop), theory, pop, source, ks=(2,))
    assert np.all(result.excess_per_length >= -1e-12) and result.objective_excess >= -1e-12


def test_spectral_loss_reaches_t1_optimum_and_subspace():
    source = preset_source("topic")
    pop = population(source)
    theory = exact_theory(source, parse_objective("ar", source.length), pop)
    config = TrainingConfig(steps=800, loss="spectral", k=2)
    run = pretrain_transformer(source, "ar", config=config, seed=0)
    fit = evaluate(network_outputs(run, theory, pop), theory, pop, source, ks=(2,)).spectral
    assert fit is not None
    assert fit.gap >= -1e-6  # T1: nothing beats the optimum (float32 network, float64 loss)
    assert fit.gap < 0.01 * abs(fit.optimum)
    assert fit.max_angle_deg < 10.0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"width": 30, "heads": 4}, "width 30 is not a multiple of heads 4"),
        ({"width": 0}, "width"),
        ({"schedule": "linear"}, "schedule must be one of cosine, constant"),
        ({"architecture": "mlp"}, "architecture must be one of transformer, bottleneck"),
        (
            {"architecture": "transformer", "bottleneck": 3},
            "bottleneck is a setting of the bottleneck architecture",
        ),  # fmt: skip
        ({"loss": "mse"}, "loss must be 'ce' or 'spectral'"),
    ],
)
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(InputError, match=message):
        training_config(settings)
        architecture_config(settings)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--width", "30", "--heads", "4"], "width 30 is not a multiple of heads 4"),
        (["--width", "1024", "--layers", "16"], "parameters exceed 5,000,000"),
        (["--objectives", "ar"], "at least two distinct objectives"),
        (["--sources", "nope"], "nope"),
        (["--k", "9"], "k"),
        (["--seeds", "0,x"], "--seeds"),
        (["--loss", "mse"], "loss must be 'ce' or 'spectral'"),
        (["--sources", "markov", "--steps", "0"], "steps"),
        (["--sources", "markov2(V=6,T=8)", "--evaluation", "exact"], "use sampled"),
        (["--sources", "markov", "--steps", "1000000", "--batch", "8192"], "exceed 1e10"),
        (
            ["--architecture", "transformer", "--bottleneck", "2"],
            "--bottleneck is a setting of the bottleneck architecture",
        ),  # fmt: skip
        (["--architecture", "bottleneck", "--bottleneck", "0"], "bottleneck must be"),
        (["--architecture", "mlp"], "invalid choice: 'mlp'"),
    ],
)
def test_pretrain_bad_input_is_one_line_exit_2(tmp_path, capsys, argv, message):
    code = main(["pretrain", "--out", str(tmp_path / "p.jsonl"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "p.jsonl").exists()  # refused before any work


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
@pytest.mark.parametrize("loss", ["ce", "spectral"])
def test_each_architecture_counts_its_parameters_before_building(name, loss):
    source, training = preset_source("markov"), TrainingConfig(steps=2, batch=8, loss=loss, k=3)
    shape = architecture_config({"architecture": name, "width": 16})
    run = pretrain_transformer(source, "mlm:2", config=training, architecture=shape)
    built = sum(
        leaf.size for leaf in jax.tree_util.tree_leaves(eqx.filter(run.model, eqx.is_array))
    )
    assert built == parameter_count(shape, training, vocab=source.vocab, length=source.length)


def test_a_bottleneck_gives_probes_features_of_its_dimension():
    source = preset_source("markov")
    shape = architecture_config({"architecture": "bottleneck", "bottleneck": 3})
    run = pretrain_transformer(source, "ar", config=TrainingConfig(steps=20, batch=16),
                               architecture=shape)  # fmt: skip
    pop = population(source)
    outputs = network_outputs(run, exact_theory(source, parse_objective("ar", 5), pop), pop)
    assert outputs.pattern_hidden is not None and outputs.pooled is not None
    assert outputs.pattern_hidden.shape[-1] == 3 and outputs.pooled.shape[-1] == 3
    np.testing.assert_allclose(outputs.prefix_conditionals.sum(axis=-1), 1.0, rtol=1e-6)


def test_an_evaluation_past_its_size_is_refused_before_training(tmp_path, capsys):
    # a dense chain with V = 4, T = 9: 262,144 sequences (under the 10^6 of the population),
    # read under 8 + 8 patterns: 4.2 million contexts, past the 2 million of an evaluation
    rng = np.random.default_rng(0)
    spec = {"family": "markov", "prior": [0.5, 0.5], "length": 9,
            "init": rng.dirichlet(np.ones(4), size=2).tolist(),
            "trans": rng.dirichlet(np.ones(4), size=(2, 4)).tolist()}  # fmt: skip
    (tmp_path / "dense.json").write_text(json.dumps(spec))
    argv = ["pretrain", "--sources", str(tmp_path / "dense.json"), "--objectives", "ar,mlm:1",
            "--k", "2", "--out", str(tmp_path / "p.jsonl"), "--evaluation", "exact"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "4.46e+06 contexts read; at most 10^6 sequences and 2,000,000 contexts" in err
    assert "use sampled" in err
    assert err.count("\n") == 1 and not (tmp_path / "p.jsonl").exists()
    request = PretrainRequest(sources=(str(tmp_path / "dense.json"),), objectives=("ar", "mlm:1"))
    assert request.mode(request.sources[0]) == "sampled"  # what auto does instead


def test_pretrain_prints_the_table_and_resumes(tmp_path, capsys):
    argv = ["pretrain", "--sources", "topic", "--objectives", "ar,mlm:1", "--seeds", "0,1",
            "--k", "2", "--steps", "20", "--batch", "16", "--out", str(tmp_path / "p.jsonl")]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("pretrain: 4 runs trained") and "probe error, T1 map" in out
    assert main([*argv, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert {r["metric"] for r in record["rows"]} >= {"probe error, T1 map", "ARI, T1 map"}
    assert all(r["seeds"] == 2 for r in record["rows"])
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("pretrain: 0 runs trained, 4 resumed; results in")


def test_check_pretrain_gives_each_claim_row_the_networks_verdict(tmp_path, capsys):
    argv = ["check", "--sources", "topic", "--n-train", "2000", "--n-eval", "100", "--pretrain",
            "--pretrain-steps", "20",
            "--pretrain-seeds", "0,1", "--pretrain-out", str(tmp_path / "c.jsonl"), "--json"]  # fmt: skip
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)["pretrain"]
    pairs = {(r["claim"], r["first"], r["other"]) for r in rows}
    assert pairs == {("C2", "mlm:0.4", "ar"), ("C3", "ar", "mlm:0.4"), ("C4", "dar:2", "ar"),
                     ("C4", "vmlm", "mlm:0.4")}  # fmt: skip
    claims = {m: {r["claim"] for r in rows if r["metric"] == m}
              for m in ("generation excess (nats)", "probe error, T1 map at full rank")}  # fmt: skip
    assert claims["generation excess (nats)"] == {"C3", "C4"}  # C2 compares classification only
    # the full-rank probe uses no k but classifies: C2 and C4's dar:2 pair, never C3
    assert claims["probe error, T1 map at full rank"] == {"C2", "C4"}
    assert main(["check", "--sources", "topic", "--pretrain", "--csv"]) == 2
    assert "--pretrain prints its rows" in capsys.readouterr().err


def test_sweep_pretrain_mode_and_simulate_transformer(tmp_path, capsys):
    grid = tmp_path / "g.toml"
    grid.write_text('[sweep]\nmode = "pretrain"\nloss = "ce"\nsteps = 20\n\n[grid]\n'
                    'source = ["topic"]\nobjective = ["mlm:1"]\nk = [2]\nseed = [0]\n')  # fmt: skip
    assert main(["sweep", str(grid), "--out", str(tmp_path / "g.jsonl")]) == 0
    row = json.loads((tmp_path / "g.jsonl").read_text().splitlines()[-1])
    assert row["pretrain_generation_excess"] >= -1e-12 and 0 <= row["pretrain_t1_probe_error"] <= 1
    capsys.readouterr()
    argv = ["simulate", "--source", "topic", "--objective", "mlm:1", "--model", "transformer",
            "--loss", "ce", "--steps", "20", "--json"]  # fmt: skip
    assert main(argv) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["model"] == "transformer" and record["t1"][0]["k"] == 2
    assert main([*argv, "--n-train", "5"]) == 2
    assert "--n-train and --n-eval do not apply" in capsys.readouterr().err
