"""Belief geometry: the exact beliefs against enumeration, the cross-fitted R^2 against a
direct fit, Mess3 against its labelled matrices, and the --belief, --width and probe rows."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from lookaround.cli import main
from lookaround.simulations.beliefs import belief_geometry
from lookaround.simulations.crossfit import CrossFit, cross_fitted_r2
from lookaround.simulations.pretrain import population
from lookaround.simulations.probes import weighted_probe_error
from lookaround.theory.conditionals import context_laws
from lookaround.theory.families import family_source, mess3_matrices
from lookaround.theory.marginals import sequence_joint
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source
from lookaround.theory.sources import source_from_dict
from tests.strategies import random_spec


def _enumerated_beliefs(source, tokens, visible, target) -> np.ndarray:
    """``P(z, h_i | x_S)`` summed over every hidden path and every hidden token."""
    r, states = source.init.shape
    length = source.length
    out = np.zeros((r, states))
    for z in range(r):
        for path in itertools.product(range(states), repeat=length):
            p = source.prior[z] * source.init[z, path[0]]
            for t in range(length - 1):
                p *= source.trans[z, t, path[t], path[t + 1]]
            for t in np.flatnonzero(visible):  # hidden positions sum their emissions to 1
                p *= source.emit[z, t, path[t], tokens[t]]
            out[z, path[target]] += p
    return out / out.sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beliefs_match_enumeration_filtered_and_smoothed(seed):
    source = source_from_dict(random_spec("hmm", 2, 3, 3, 5, seed, 0.2))
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, 3, (12, 5))
    target = rng.integers(0, 5, 12)
    visible = rng.random((12, 5)) < 0.6
    visible[:6] = np.arange(5)[None, :] < target[:6, None]  # prefixes: the filtered belief
    visible[np.arange(12), target] = False
    laws = context_laws(source, tokens, visible=visible, target=target)
    for row in range(12):
        expected = _enumerated_beliefs(source, tokens[row], visible[row], target[row])
        np.testing.assert_allclose(laws.states[row], expected, atol=1e-9)
        np.testing.assert_allclose(laws.states[row].sum(axis=1), laws.classes[row], atol=1e-12)


def test_mess3_is_shai_et_al_process():
    source = preset_source("mess3")
    labelled = mess3_matrices(0.05, 0.85)
    assert source.name == "mess3" and source.n_classes == 1 and source.length == 10
    rng = np.random.default_rng(0)
    tokens, target = rng.integers(0, 3, (40, 10)), rng.integers(1, 10, 40)
    prefix = np.arange(10)[None, :] < target[:, None]
    beliefs = context_laws(source, tokens, visible=prefix, target=target).states[:, 0]
    for row in range(40):
        law = np.full(3, 1 / 3)  # the stationary start, updated token by token
        for v in tokens[row, : target[row]]:
            law = law @ labelled[v]
        shai = law / law.sum()  # P(s_l | x_<l)
        np.testing.assert_allclose(beliefs[row], shai @ labelled.sum(axis=0), atol=1e-12)
    joint = sequence_joint(source)[0]
    for row in tokens[:10]:
        law = np.full(3, 1 / 3)
        for v in row:
            law = law @ labelled[v]
        assert abs(joint[tuple(row)] - law.sum()) < 1e-15
    other = family_source("mess3(x=0.15,alpha=0.6)")
    np.testing.assert_allclose(other.trans[0, 0], [[0.7, 0.15, 0.15], [0.15, 0.7, 0.15],
                                                   [0.15, 0.15, 0.7]])  # fmt: skip


def _exact_reader(source):
    def read(tokens, visible, target):
        n, count, length = visible.shape
        laws = context_laws(source, np.repeat(tokens, count, axis=0),
                            visible=visible.reshape(-1, length), target=target.reshape(-1))  # fmt: skip
        return laws.states.reshape(n, count, 1, -1), laws.classes.reshape(n, count, -1)

    return read


@pytest.mark.parametrize("objective", ["ar", "mlm:2", "vmlm"])
def test_the_exact_beliefs_themselves_give_r2_one(objective):
    source = preset_source("hmm")
    pop = population(source)
    geometry = belief_geometry(_exact_reader(source), source, parse_objective(objective, 5),
                               pop.tokens, pop.mass, seed=0)  # fmt: skip
    assert abs(geometry.at("embedding").state_r2 - 1) < 1e-9  # the embedding slot holds states
    assert abs(geometry.at("features").class_r2 - 1) < 1e-9
    assert geometry.at("features").state_r2 < 0.99  # the class posterior alone is not enough


def test_cross_fitting_matches_a_direct_fit():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(300, 4)), rng.normal(size=(300, 2))
    y[:, 0] += x @ [1.0, -2.0, 0.5, 0.0]
    w, fold = rng.random(300), rng.integers(0, 2, 300)
    error = 0.0
    for f in (0, 1):
        fit, held = fold != f, fold == f
        design = np.hstack([x, np.ones((300, 1))])
        root = np.sqrt(w[fit])[:, None]
        beta = np.linalg.lstsq(root * design[fit], root * y[fit], rcond=None)[0]
        error += float(w[held] @ np.sum((y[held] - design[held] @ beta) ** 2, axis=1))
    mean = w @ y / w.sum()
    total = float(w @ np.sum((y - mean) ** 2, axis=1))
    assert abs(cross_fitted_r2(x, y, w, fold) - (1 - error / total)) < 1e-10


def test_r2_of_a_constant_target_is_nan_and_blocks_add_up():
    rng = np.random.default_rng(1)
    x, fold, w = rng.normal(size=(50, 3)), np.arange(50) % 2, np.full(50, 0.02)
    assert np.isnan(cross_fitted_r2(x, np.ones((50, 1)), w, fold))
    y = x @ rng.normal(size=(3, 2)) + rng.normal(size=(50, 2))
    fit = CrossFit(2, 3, 2)
    for rows in (slice(0, 20), slice(20, 50)):  # two blocks: the same moments as one
        fit.add(fold[rows], x[rows], y[rows], w[rows])
    assert abs(fit.r2() - cross_fitted_r2(x, y, w, fold)) < 1e-12


def test_full_rank_and_pca_probes():
    from lookaround.simulations.pretrain import Outputs, evaluate, exact_theory

    source = preset_source("markov")
    pop = population(source)
    theory = exact_theory(source, parse_objective("mlm:2", 5), pop)
    rng = np.random.default_rng(0)
    hidden = rng.normal(size=(pop.tokens.shape[0], len(theory.objective.patterns), 3))
    outputs = Outputs(theory.conditionals, theory.prefix_conditionals, pattern_hidden=hidden)
    res = evaluate(outputs, theory, pop, source, ks=(2, 3))
    averaged = np.einsum("p,npv->nv", theory.objective.weights, theory.conditionals)
    full = weighted_probe_error(averaged @ theory.feature_map, pop.class_joint)
    assert res.full is not None and res.full.probe_error == full
    assert res.full.k == theory.feature_map.shape[1]
    raw, top3 = res.raw, res.metrics("pca", 3)
    assert raw is not None and top3 is not None
    # all d = 3 principal directions span what the raw states span: the same probe
    assert abs(top3.probe_error - raw.probe_error) < 1e-12


def test_widths_and_belief_rows_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "p.jsonl"
    code = main(["pretrain", "--sources", "topic", "--objectives", "ar,mlm:1", "--seeds", "0,1",
                 "--k", "2", "--steps", "10", "--batch", "16", "--width", "2,8", "--belief",
                 "--out", str(out), "--json"])  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {r["width"] for r in printed["rows"]} == {2, 8}
    assert {"probe error, T1 map at full rank", "probe error, raw top-k principal directions"} <= {
        r["metric"] for r in printed["rows"]
    }
    layers = {(b["width"], b["objective"], b["layer"]) for b in printed["beliefs"]}
    assert (2, "ar", "block 2") in layers and (8, "mlm:1", "features") in layers
    assert main(["pretrain", "--sources", "topic", "--objectives", "ar,mlm:1", "--seeds", "0,1",
                 "--k", "2", "--steps", "10", "--batch", "16", "--width", "2,8", "--belief",
                 "--out", str(out)]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "0 runs trained, 8 resumed" in text and "(2 seeds; width 8)" in text
    assert "belief R^2, topic (width 2; 2 seeds" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--width", "8,8"], "--width needs distinct widths"),
        (["--width", "8,x"], "--width"),
    ],
)
def test_bad_width_and_belief_requests_are_one_line_exit_2(tmp_path, capsys, argv, message):
    code = main(["pretrain", "--objectives", "ar,mlm:1", "--out", str(tmp_path / "p.jsonl"),
                 *argv])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_the_split_map_reads_rows_of_several_settings():
    from lookaround.simulations.split_map import format_split_map, split_map
    from lookaround.simulations.verdicts import AgreementRow

    def row(metric, k, width, agreement, loss="ce"):
        return AgreementRow("markov", metric, k, "ar", "mlm:2", None, 0.3, 0.4, 0.1, "first",
                            (0.3, 0.0), (0.4, 0.0), 0.1, 0.01, "first", agreement, False, 3,
                            width=width, loss=loss)  # fmt: skip

    rows = [row("probe error, T1 map", 2, 32, "agree"),
            row("probe error, raw pattern-averaged", 2, 32, "disagree"),
            row("probe error, T1 map", 2, 2, "unresolved", loss="spectral"),
            row("ARI, T1 map", 2, 32, "agree")]  # fmt: skip
    cells = split_map(rows)
    assert [c.metric for c in cells] == ["probe_t1", "probe_raw", "probe_t1"]  # probes only
    text = format_split_map(cells).splitlines()
    assert text[:5] == [
        "markov: ar vs mlm:2",
        "  setting       t1@2  raw@2",
        "  exact winner  ar    ar",
        "  d=32 ce       =     x",
        "  d=2 spectral  ?",
    ]


def test_a_belief_simplex_needs_three_states():
    from lookaround.figures.f12_belief import plot_belief
    from lookaround.simulations.beliefs import BeliefProjection

    three = BeliefProjection("block 2", np.eye(3), np.eye(3), np.full(3, 1 / 3), 1.0)
    ax = plot_belief(three, fitted=True)
    assert np.asarray(ax.collections[0].get_offsets()).shape == (3, 2)
    with pytest.raises(ValueError, match="a simplex of 3 states"):
        plot_belief(BeliefProjection("x", np.eye(4), np.eye(4), np.ones(4), 1.0), fitted=False)
