"""Belief geometry on sampled draws: the moments' in-sample and interval forms against direct
fits, the interval's coverage of the population's R^2_*, and its rows in the results file
and the table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lookaround.cli import main
from lookaround.simulations import beliefs
from lookaround.simulations.crossfit import CrossFit
from lookaround.simulations.pretrain import population
from lookaround.simulations.records import evaluation_of, record
from lookaround.simulations.sampled import draw_evaluation
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source


def _direct_r2(x, y, w) -> float:
    design = np.hstack([x, np.ones((x.shape[0], 1))])
    root = np.sqrt(w)[:, None]
    beta = np.linalg.lstsq(root * design, root * y, rcond=None)[0]
    mean = w @ y / w.sum()
    return 1 - float(w @ np.sum((y - design @ beta) ** 2, axis=1)) / float(
        w @ np.sum((y - mean) ** 2, axis=1)
    )


def test_in_sample_r2_is_a_direct_fit_and_batches_only_split_the_moments():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(400, 3)), rng.normal(size=(400, 3))
    y[:, :2] += x[:, :2] * [2.0, -1.0]
    w, fold, batch = rng.random(400), rng.integers(0, 2, 400), np.arange(400) // 20
    one, split = CrossFit(2, 3, 3), CrossFit(2, 3, 3, batches=20)
    one.add(fold, x, y, w)
    split.add(fold, x, y, w, batch)
    for columns in (slice(None), slice(0, 1), slice(1, None)):
        assert abs(one.in_sample_r2(columns) - _direct_r2(x, y[:, columns], w)) < 1e-10
        assert abs(split.r2(columns) - one.r2(columns)) < 1e-12
        assert abs(split.in_sample_r2(columns) - one.in_sample_r2(columns)) < 1e-12
    assert split.r2() < split.in_sample_r2()  # out of sample is the harder test
    interval = split.interval()
    assert interval.estimate == split.r2()
    assert interval.low is not None and interval.high is not None
    assert interval.low < split.r2() < split.in_sample_r2() < interval.high
    assert one.interval().low is None  # one batch: no spread to read
    y2 = y + rng.normal(size=y.shape)
    split.add(fold, x, y2, w, batch)  # rows added after a fit: the maps are fitted again
    fresh = CrossFit(2, 3, 3)
    fresh.add(np.concatenate([fold, fold]), np.vstack([x, x]), np.vstack([y, y2]),
              np.concatenate([w, w]))  # fmt: skip
    assert abs(split.r2() - fresh.r2()) < 1e-12
    assert abs(split.in_sample_r2() - fresh.in_sample_r2()) < 1e-12


def _reader(vocab: int, length: int, d: int):
    """A fixed nonlinear read of each context: deterministic features, as a trained network's
    are, with R^2 well below 1."""
    a = np.random.default_rng(0).normal(size=(length * (vocab + 1) + length, 2 * d)) / 2

    def read(tokens, visible, target):
        shown = np.where(visible, tokens[:, None, :], vocab)
        onehot = (shown[..., None] == np.arange(vocab + 1)).reshape(*visible.shape[:2], -1)
        z = np.tanh(np.concatenate([onehot, target[..., None] == np.arange(length)], -1) @ a)
        return np.stack([z[..., :d], z[..., d:]], axis=2), z[..., :d] * z[..., d:]

    return read


@pytest.mark.parametrize(
    ("objective", "n", "d", "seeds"),
    [("ar", 500, 6, 200), ("mlm:2", 300, 30, 100)],  # every pattern; drawn ones, many features
)
def test_sampled_belief_intervals_cover_the_population_r2_star(objective, n, d, seeds):
    source = preset_source("markov")
    read = _reader(source.vocab, source.length, d)
    pop = population(source)
    best = beliefs.belief_geometry(read, source, parse_objective(objective, source.length),
                                   pop.tokens, pop.mass, seed=0, best=True)  # fmt: skip
    truth = {(f.layer, t): getattr(f, f"{t}_r2") for f in best.fits for t in ("class", "state")}
    covered = {key: 0 for key in truth}
    for seed in range(seeds):
        draws = draw_evaluation(source, objective, n=n, seed=100 + seed)
        geometry = beliefs.sampled_belief_geometry(
            read, source, draws.tokens, visible=draws.visible, target=draws.target,
            weights=draws.weights, seed=100 + seed,
        )  # fmt: skip
        assert geometry.sequences == n
        for fit in geometry.fits:
            for target in ("class", "state"):
                low, high = getattr(fit, f"{target}_r2_ci")
                covered[fit.layer, target] += low <= truth[fit.layer, target] <= high
    rates = {key: count / seeds for key, count in covered.items()}
    assert sum(covered.values()) / (seeds * len(covered)) >= 0.93, rates
    assert min(rates.values()) >= 0.88, rates


def test_sampled_beliefs_round_trip_and_exact_rows_keep_their_form():
    from lookaround.simulations.pretrain import PretrainEvaluation

    source = preset_source("markov")
    read = _reader(source.vocab, source.length, 4)
    draws = draw_evaluation(source, "ar", n=200, seed=0)
    sampled = beliefs.sampled_belief_geometry(read, source, draws.tokens, visible=draws.visible,
                                              target=draws.target, weights=draws.weights, seed=0)  # fmt: skip
    pop = population(source)
    exact = beliefs.belief_geometry(read, source, parse_objective("ar", 5), pop.tokens, pop.mass,
                                    seed=0)  # fmt: skip

    def evaluation(belief, **sampled) -> PretrainEvaluation:
        return PretrainEvaluation(0.1, np.zeros(4), 0.1, (), None, None, None, belief=belief,
                                  **sampled)  # fmt: skip

    exact_row = record(evaluation(exact))
    assert (
        "sequences" not in exact_row["belief"]
        and "state_r2_ci" not in exact_row["belief"]["fits"][0]
    )
    assert evaluation_of(json.loads(json.dumps(exact_row))).belief == exact
    ci = (0.0, 0.0)
    sampled_row = record(evaluation(sampled, sequences=200, generation_excess_ci=ci,
                                    objective_excess_ci=ci, excess_per_length_ci=np.zeros((4, 2))))  # fmt: skip
    assert evaluation_of(json.loads(json.dumps(sampled_row))).belief == sampled


def test_belief_on_a_sampled_evaluation_prints_its_intervals(tmp_path, capsys):
    out = tmp_path / "p.jsonl"
    argv = ["pretrain", "--sources", "markov", "--objectives", "ar,mlm:2", "--seeds", "0",
            "--k", "2", "--steps", "10", "--batch", "16", "--width", "8", "--belief",
            "--evaluation", "sampled", "--eval-sequences", "200", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert (
        "belief R^2, markov (width 8; 1 seed; contexts ar 800, mlm:2 1,600; sampled, 200 " in text
    )
    assert "95% intervals for R^2_*" in text
    table = text[text.index("belief R^2") :].splitlines()
    assert max(map(len, table)) <= 100
    row = json.loads(out.read_text().splitlines()[1])  # after the header
    low, high = row["belief"]["fits"][-1]["state_r2_ci"]
    assert low <= row["belief"]["fits"][-1]["state_r2"] <= high


def test_a_sampled_request_with_belief_is_sized_with_its_maps():
    from lookaround.simulations.agreement import PretrainRequest

    def seconds(belief: bool) -> float:
        return PretrainRequest(sources=("ginc",), objectives=("ar", "mlm:2"), seeds=(0,), ks=(2,),
                               settings=(("k", 2),), belief=belief).check()  # fmt: skip

    without, with_maps = seconds(False), seconds(True)
    assert 0 < with_maps - without < 0.5 * without  # the maps, a small share of the runs


def test_belief_maps_past_the_memory_allowed_are_one_line_exit_2(monkeypatch, tmp_path, capsys):
    from lookaround.simulations import agreement

    monkeypatch.setattr(agreement, "default_max_memory", lambda: 2**20)  # 1 MB allowed
    code = main(["pretrain", "--sources", "markov", "--objectives", "ar,mlm:2", "--belief",
                 "--evaluation", "sampled", "--out", str(tmp_path / "p.jsonl")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("lookaround: error: --belief needs about 3 MB for the maps' moments at "
                          "width 32 and 2 layers, over the 1 MB allowed")  # fmt: skip
    assert not (tmp_path / "p.jsonl").exists()  # refused before any training
