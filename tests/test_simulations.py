"""Simulated pretraining against the theory: T1 optimum, gradients, claims, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lookaround.cli import main
from lookaround.simulations.claims import check_trained, summarize
from lookaround.simulations.data import draw_patterns
from lookaround.simulations.evaluate import exact_dense_cooccurrence
from lookaround.simulations.runs import simulate
from lookaround.simulations.shared import init_params, loss_and_grads
from lookaround.simulations.tabular import train_spectral
from lookaround.theory.analysis import analyze
from lookaround.theory.bounds import spectral_loss, spectral_optimum
from lookaround.theory.objectives import parse_objective
from lookaround.theory.pattern_laws import pattern_arrays
from lookaround.theory.presets import preset_source


def test_trained_spectral_loss_reaches_t1_optimum_from_samples():
    source = preset_source("topic")
    res = simulate(
        source, parse_objective("ar", 4), model="tabular", loss="spectral", k=2, n_train=400_000
    )
    assert res.gap is not None and res.max_angle_deg is not None
    assert res.gap >= -1e-12  # T1: nothing beats the optimum
    assert res.gap < 1e-3
    assert res.max_angle_deg < 10


def test_gradient_descent_on_exact_cooccurrence_reaches_optimum():
    source, objective = preset_source("hmm"), parse_objective("mlm:2", 5)
    a, _ = exact_dense_cooccurrence(source, objective)
    f, g, curve = train_spectral(a, 2, steps=6000, lr=0.2, seed=3)
    s = np.linalg.svd(
        a[a.sum(1) > 0] / np.sqrt(a.sum(1)[a.sum(1) > 0])[:, None] / np.sqrt(a.sum(0))[None, :],
        compute_uv=False,
    )
    assert abs(spectral_loss(a, f, g) - spectral_optimum(s, 2)) < 1e-9
    assert curve[-1] <= curve[0]


@pytest.mark.parametrize("loss", ["spectral", "ce"])
def test_shared_model_gradients_match_finite_differences(loss):
    draws = draw_patterns(preset_source("hmm"), parse_objective("vmlm", 5), 40, seed=0)
    visible, target = pattern_arrays(list(draws.objective.patterns), 5)
    j = draws.pattern_index[:9]
    batch = (draws.tokens[:9], visible[j], target[j], draws.targets[:9])
    params = init_params(5, 3, 2, width=4, hidden=6, seed=1)
    _, grads = loss_and_grads(params, batch, loss)
    worst = 0.0
    for name, value in params.items():
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + 1e-6
            up, _ = loss_and_grads(params, batch, loss)
            value[idx] = old - 1e-6
            down, _ = loss_and_grads(params, batch, loss)
            value[idx] = old
            worst = max(worst, abs((up - down) / 2e-6 - grads[name][idx]))
    assert worst < 1e-6


def test_same_seed_same_numbers():
    source, objective = preset_source("markov"), parse_objective("mlm:2", 5)
    a = simulate(
        source, objective, model="shared", loss="ce", k=2, steps=100, n_train=2000, n_eval=200
    )
    b = simulate(
        source, objective, model="shared", loss="ce", k=2, steps=100, n_train=2000, n_eval=200
    )
    assert a.to_dict() == b.to_dict()


def test_shared_masked_model_generalizes_to_prefixes_the_tabular_one_never_saw():
    source, objective = preset_source("sbm-walk"), parse_objective("mlm:2", 4)
    tab = simulate(source, objective, model="tabular", loss="ce", k=2, n_train=20_000, n_eval=1000)
    shared = simulate(
        source, objective, model="shared", loss="ce", k=2, steps=2000, n_train=20_000, n_eval=1000
    )
    # The tabular model falls back to the marginal on uncovered prefix lengths (T3).
    assert shared.generation_excess + 2 * shared.generation_excess_se < tab.generation_excess


def test_trained_rows_and_summary():
    rows = check_trained(("hmm",), n_train=5000, n_eval=400)
    # C1: two T1 gaps for each of ar and mlm:2; one ARI row per classification pair; two
    # held-out generation rows (tabular, shared) per generation pair
    assert [r.claim for r in rows] == ["C1"] * 4 + ["C2"] + ["C3"] * 2 + ["C4"] * 3
    for row in rows:
        assert row.verdict in ("holds", "fails", "tie") and row.winner in row.values
        assert row.trained
    # T1 is proved: gradient descent on the exact co-occurrence reaches the optimum.
    exact_c1 = [r for r in rows if r.metric == "T1 gap, trained on the exact co-occurrence"]
    assert [r.detail.split(",")[0] for r in exact_c1] == ["objective ar", "objective mlm:2"]
    assert all(r.verdict == "holds" for r in exact_c1)
    assert [r.winner for r in rows[4:]] == ["mlm:2", "ar", "ar", "dar:2", "vmlm", "vmlm"]
    summary = summarize(rows)
    assert set(summary) == {f"C{i}/hmm" for i in range(1, 5)}


def test_check_json_cli(capsys):
    code = main(
        ["check", "--sources", "disjoint", "--n-train", "3000", "--n-eval", "300", "--json"]
    )
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    row = data["trained"][0]
    assert {"claim", "source", "metric", "values", "holds", "detail", "trained"} <= set(row)
    assert all(r["trained"] for r in data["trained"])
    robust = data["robust"][0]
    assert {"verdict", "counts", "flips", "settings"} <= set(robust)


def test_simulate_json_cli(capsys):
    # markov has rank 3 (s_3 > 0), so an optimum summed over one singular value too many shows
    common = "simulate --source markov --objective ar --n-train 5000 --n-eval 200 --json".split()
    code = main([*common, "--steps", "300"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"final_loss", "optimum", "gap", "probe_error", "ari"} <= set(data)
    # T1's optimum from the exact spectrum, independently: -(s_1^2 + s_2^2); T1 keeps gap >= 0
    source = preset_source("markov")
    spectrum = analyze(source, parse_objective("ar", 5), 2).level("context").singular_values
    assert spectrum[2] > 0.1
    assert data["optimum"] == pytest.approx(-(spectrum[0] ** 2 + spectrum[1] ** 2), abs=1e-12)
    assert data["gap"] >= -1e-12 and data["gap"] == pytest.approx(
        data["final_loss"] - data["optimum"], abs=1e-12
    )
    code = main([*common, "--loss", "ce", "--steps", "50"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["optimum"] is None and data["gap"] is None


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--source", "zzz", "--objective", "ar"], "unknown source"),
        (["--source", "topic", "--objective", "xlnet"], "unknown objective"),
        (
            ["--source", "topic", "--objective", "ar", "--k", "5"],
            "k must be an integer with 1 <= k <= V = 4",
        ),
        (
            ["--source", "topic", "--objective", "ar", "--steps", "0"],
            "--steps must be an integer in [1, 1000000]",
        ),
        (
            ["--source", "topic", "--objective", "ar", "--lr", "-1"],
            "--lr must be a finite number > 0",
        ),
    ],
)
def test_simulate_bad_input(capsys, argv, message):
    code = main(["simulate", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("name, spec", [("hmm", "ar"), ("topic", "dar:2")])
def test_t3prime_count_estimator_excess_falls_like_one_over_n_w(name, spec):
    from lookaround.simulations.rates import count_estimator_rate

    source = preset_source(name)
    objective = parse_objective(spec, source.length)
    results = [
        count_estimator_rate(source, objective, n, seeds=5) for n in (20_000, 80_000, 320_000)
    ]
    x = np.log([r.effective_draws for r in results])
    y = np.log([r.excess for r in results])
    # one slope shared by every length l, each with its own constant: the T3' rate is -1
    slope = np.sum((x - x.mean(0)) * (y - y.mean(0))) / np.sum((x - x.mean(0)) ** 2)
    assert -1.15 < slope < -0.85
    ratio = results[-1].excess / results[-1].predicted
    assert np.all((ratio > 0.5) & (ratio < 1.5))


def test_generation_is_reported_per_prefix_length_against_the_bayes_loss():
    from lookaround.theory.coverage import generation_report

    source, objective = preset_source("markov"), parse_objective("mlm:2", 5)
    res = simulate(
        source, objective, model="tabular", loss="ce", k=2, steps=300, n_train=20_000, n_eval=500
    )
    data = res.to_dict()
    assert len(data["excess_per_length"]) == source.length - 1
    np.testing.assert_allclose(
        data["bayes_loss_per_length"], generation_report(source, objective).bayes_loss
    )
    # uncovered prefix lengths fall back to the learned marginal: clearly positive excess
    uncovered = [l - 1 for l in (1, 2, 4)]
    excess, se = np.array(data["excess_per_length"]), np.array(data["excess_se_per_length"])
    assert np.all(excess[uncovered] > 2 * se[uncovered])
