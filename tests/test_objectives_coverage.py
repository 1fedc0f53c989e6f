"""Pattern distributions against their sampling definitions, and T3's closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from brute import pattern_law
from strategies import OBJECTIVES, min_length

from lookaround.base.errors import InputError
from lookaround.theory.coverage import alignment, generation_report, prefix_weights
from lookaround.theory.objective_kinds import KINDS
from lookaround.theory.objectives import Objective, Pattern, parse_objective
from lookaround.theory.presets import preset_source


@pytest.mark.parametrize("spec", OBJECTIVES)
@pytest.mark.parametrize("T", [2, 3, 4, 5])
def test_weights_equal_the_sampling_definition(spec, T):
    if T < min_length(spec):  # outside the objective's domain: refused, with the rule
        with pytest.raises(InputError, match="needs|outside"):
            parse_objective(spec, T)
        return
    objective = parse_objective(spec, T)
    law = pattern_law(spec, T)
    assert {(p.visible, p.target) for p in objective.patterns} == set(law)
    for pattern, weight in zip(objective.patterns, objective.weights):
        assert abs(weight - float(law[(pattern.visible, pattern.target)])) < 1e-15
    assert abs(objective.weights.sum() - 1) < 1e-12
    assert all(p.target not in p.visible for p in objective.patterns)


@pytest.mark.parametrize("spec", OBJECTIVES)
@pytest.mark.parametrize("T", [2, 5, 7])
def test_patterns_come_in_order_with_their_exact_fractions(spec, T):
    """Both routes of the parser (a table of the law, sorted; an exchangeable kind's sets
    written in order by size) give the patterns in Pattern's order, each with its fraction."""
    if T < min_length(spec):
        pytest.skip("outside the objective's domain")
    objective = parse_objective(spec, T)
    law = pattern_law(spec, T)
    keys = [(p.visible, p.target) for p in objective.patterns]
    assert keys == sorted(law)
    assert list(objective.fractions) == [law[key] for key in keys]
    assert objective.weights.tolist() == [float(law[key]) for key in keys]


@pytest.mark.parametrize("spec", OBJECTIVES)
def test_the_size_law_is_found_where_the_weight_depends_on_the_size_alone(spec):
    length = max(5, min_length(spec))
    objective = parse_objective(spec, length)
    law = pattern_law(spec, length)
    by_size: dict[int, set] = {}
    for (visible, _), weight in law.items():
        by_size.setdefault(len(visible), set()).add(weight)
    exchangeable = all(
        len(weights) == 1
        and sum(len(v) == size for v, _ in law) == math.comb(length, size) * (length - size)
        for size, weights in by_size.items()
    )
    found = objective.size_law()
    if exchangeable:
        assert found == {size: float(next(iter(w))) for size, w in by_size.items()}
    else:
        assert found is None
    if KINDS[spec.partition(":")[0]].sizes is not None:  # span:1, mlm:1's law, is found too
        assert found is not None


def test_the_size_law_needs_every_pattern_of_a_size_and_one_weight():
    objective = parse_objective("vmlm", 5)
    fewer = Objective("fewer", 5, objective.patterns[1:], objective.weights[1:])
    assert fewer.size_law() is None
    weights = objective.weights.copy()
    weights[[0, 1]] *= [1.5, 0.5]  # two patterns of S = {}: one weight no longer
    assert Objective("uneven", 5, objective.patterns, weights).size_law() is None
    assert Objective("same", 5, objective.patterns, objective.weights).size_law() is not None


@pytest.mark.parametrize("spec", OBJECTIVES)
@pytest.mark.parametrize("T", [2, 5, 7])
def test_an_objective_before_its_table_answers_as_the_table_does(spec, T):
    """An exchangeable objective answers from its weights by size until its table is read
    (Objective.exchangeable): every answer equals the one an objective built from that
    table gives, and only the exchangeable kinds wait."""
    if T < min_length(spec):
        pytest.skip("outside the objective's domain")
    objective = parse_objective(spec, T)
    waits = not objective.holds_table()
    assert waits == (KINDS[spec.partition(":")[0]].sizes is not None)

    def answers(o: Objective) -> tuple:
        counts = (o.support_size(), o.context_count(3), o.visible_positions(), o.largest_visible())
        by_target = {i: (a.tolist(), b.tolist()) for i, (a, b) in o.by_target().items()}
        law = o.size_law(), list(o.weighted_patterns()), o.weights.tolist()
        return counts, o.visible_set_count(), by_target, *law

    probes = [Pattern(visible, i) for visible, i in pattern_law(spec, T)] + [
        Pattern((0,), 0), Pattern((1, 0), T - 1), Pattern((0, 0), 1), Pattern((0,), T),
        Pattern((-1,), 0), Pattern(tuple(range(1, T)), 0), Pattern((), T - 1),
    ]  # fmt: skip
    before, weights = answers(objective), [objective.weight_of(p) for p in probes]
    assert objective.holds_table() == (not waits)  # nothing above built it, weights included
    fresh = parse_objective(spec, T)
    tabled = Objective(spec, T, fresh.patterns, fresh.weights, fresh.fractions)  # table first
    assert answers(tabled) == before
    assert [tabled.weight_of(p) for p in probes] == weights
    assert objective.patterns == fresh.patterns and objective.fractions == fresh.fractions
    assert before[0][0] == len(objective.patterns)


def test_plm_equals_vmlm_as_a_pattern_law():
    a, b = parse_objective("plm", 6), parse_objective("vmlm", 6)
    assert a.patterns == b.patterns
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-15)
    assert len(a.patterns) == 6 * 2**5  # T 2^(T-1) patterns (S, i)


def test_every_kind_of_objective_has_its_brute_force_twin():
    forms = {spec.partition(":")[0] for spec in OBJECTIVES}
    assert forms == set(KINDS)  # a kind without a twin in tests/brute.py fails here
    for name, kind in KINDS.items():
        assert all(form.partition(":")[0] == name for form in kind.forms)


CLOSED_FORMS = {
    "ar": lambda T, l: 1 / (T - 1),
    "vmlm": lambda T, l: 1 / (T * math.comb(T, l) * (T - l)),
    "plm": lambda T, l: 1 / (T * math.comb(T, l) * (T - l)),
    "aas": lambda T, l: 1 / (T * 2 ** (T - 1)),
    "dar:2": lambda T, l: 1 / ((T - 1) * min(2, T - l)),
    "dar:3": lambda T, l: 1 / ((T - 1) * min(3, T - l)),
    "mlm:2": lambda T, l: 1 / (math.comb(T, 2) * 2) if l == T - 2 else 0.0,
    "mlm:1": lambda T, l: 1 / T if l == T - 1 else 0.0,
}


@pytest.mark.parametrize("spec", sorted(CLOSED_FORMS))
@pytest.mark.parametrize("T", [3, 4, 6, 8])
def test_coverage_weights_match_closed_forms(spec, T):
    if T < min_length(spec):  # each closed form holds on its domain; outside it: refused
        with pytest.raises(InputError, match="needs"):
            parse_objective(spec, T)
        return
    weights = prefix_weights(parse_objective(spec, T))
    expected = [CLOSED_FORMS[spec](T, l) for l in range(1, T)]
    np.testing.assert_allclose(weights, expected, rtol=1e-12, atol=0)
    chi = alignment(weights)
    if all(e > 0 for e in expected):
        assert abs(chi - sum((1 / (T - 1)) ** 2 / e for e in expected)) < 1e-9 * chi
    else:
        assert chi == float("inf")


def test_ar_is_the_best_aligned_objective():
    # chi >= 1 with equality exactly when w puts all its mass on the tested prefixes uniformly.
    for spec in ("ar", "dar:2", "vmlm", "prefixlm", "plm", "mlm:1"):
        assert alignment(prefix_weights(parse_objective(spec, 6))) >= 1 - 1e-12
    assert abs(alignment(prefix_weights(parse_objective("ar", 6))) - 1) < 1e-12


def test_generation_excess_is_zero_when_covered_and_kl_otherwise():
    source = preset_source("markov")
    ar = generation_report(source, parse_objective("ar", 5))
    assert ar.total_excess == 0 and ar.covered.all()
    mlm = generation_report(source, parse_objective("mlm:1", 5))
    assert mlm.covered.tolist() == [False, False, False, True]
    # uniform fallback: KL(P || U) = log V - H(x_l | prefix) on each uncovered length
    np.testing.assert_allclose(mlm.fallback_excess, np.log(3) - mlm.bayes_loss, atol=1e-12)
    assert abs(mlm.total_excess - mlm.fallback_excess[:3].sum() / 4) < 1e-12


@pytest.mark.parametrize(
    "spec, T, field",
    [
        ("mlm:0", 5, "mask count 0"),
        ("mlm:6", 5, "mask count 6"),
        ("span:9", 5, "mask count 9"),
        ("dar:0", 5, "dar:J needs 2 <= J <= T-1 = 4, got 0"),
        ("dar:1", 5, "dar:1 is ar"),
        ("dar:99", 5, "dar:4 is prefixlm"),
        ("mlm:\u0662", 5, "ASCII"),
        ("dar:1_0", 5, "ASCII"),
        ("mlm:2 ", 5, "ASCII"),
        ("ar:", 5, "ASCII"),
        ("vmlm", 30, "1.61e[+]10 patterns"),
        ("plm", 26, "patterns"),
        ("ar", 20000, r"sequence length must be an integer in \[2, 4096\]"),
        ("bert", 5, "unknown objective"),
        ("mlm:1.5", 5, "ratio"),
        ("vmlm:3-1", 5, "empty"),
        ("ar", 1, "length"),
    ],
)
def test_bad_objectives_are_named(spec, T, field):
    with pytest.raises(InputError, match=field):
        parse_objective(spec, T)
