"""The robust claim table: every setting's verdict equals the brute-force reference's."""

from __future__ import annotations

import numpy as np
import pytest
from brute import Brute, effective_degree, support_fraction, within_class_gap

from lookaround.simulations.evaluate import RESTARTS, population_ari, population_clustering
from lookaround.simulations.metrics import (
    AMBIGUITY_TOL,
    CERTIFIABLE_METRICS,
    EXACT_TOL,
    METRICS,
    ExactSource,
    decide,
)
from lookaround.simulations.robust import (
    RobustRow,
    Setting,
    SettingVerdict,
    robust_rows,
    summary_table,
)
from lookaround.theory.certificates import CERTIFIABLE
from lookaround.theory.presets import preset_source, resolve_source


def _prefix_weights(brute: Brute, length: int) -> list[float]:
    return [float(brute.law.get((tuple(range(l)), l), 0)) for l in range(1, length)]


def _chi(brute: Brute, length: int) -> float:
    weights = _prefix_weights(brute, length)
    test = 1 / (length - 1)
    return np.inf if min(weights) == 0 else sum(test**2 / w for w in weights)


def _t2p_bound(brute: Brute, k: int) -> float:
    sample = brute.sample(k)
    lam = sample["eigenvalues"][k]
    return np.inf if lam >= 1 else 2 * sample["alpha"] / (1 - lam)


def _ari(brute: Brute, k: int) -> float:
    features = brute.averaged_features(k)
    return population_clustering(features, brute.sample_joint, restarts=RESTARTS, seed=0).ari


# The brute-force twin of every metric, keyed on the metric's key: (brute, k, T) -> value.
ORACLES = {
    "support_fraction": lambda b, k, T: support_fraction(b.sample(k)["graph"]),
    "effective_degree": lambda b, k, T: effective_degree(b.sample(k)["graph"]),
    "within_class_gap": lambda b, k, T: within_class_gap(b.sample(k)["graph"], b.sample(k)["labels"]),
    "phi": lambda b, k, T: b.context(k)["phi"],
    "t2p_bound": lambda b, k, T: _t2p_bound(b, k),
    "averaged_probe_error": lambda b, k, T: b.sample(k)["averaged_probe_error"],
    "ari": lambda b, k, T: _ari(b, k),
    "s_k1": lambda b, k, T: b.context(k)["singular_values"][k],
    "lambda_k1": lambda b, k, T: b.sample(k)["eigenvalues"][k],
    "t2_bound": lambda b, k, T: 2 * b.context(k)["phi"] / (1 - b.context(k)["singular_values"][k] ** 2),
    "alpha": lambda b, k, T: b.sample(k)["alpha"],
    "context_probe_error": lambda b, k, T: b.context(k)["probe_error"],
    "sample_probe_error": lambda b, k, T: b.sample(k)["probe_error"],
    "covered": lambda b, k, T: float(sum(w > 0 for w in _prefix_weights(b, T))),
    "chi": lambda b, k, T: _chi(b, T),
    "excess": lambda b, k, T: b.generation_excess(),
}  # fmt: skip


def test_every_metric_has_its_brute_force_twin():
    assert set(ORACLES) == set(METRICS)


def test_the_certifiable_metrics_are_those_a_certificate_decides():
    assert set(CERTIFIABLE_METRICS) == set(CERTIFIABLE)


@pytest.mark.parametrize("name", ["markov:1", "hmm:2"])
def test_every_metric_reads_its_brute_force_value(name):
    # every metric, in the claim table or not (a sweep column, a map's or a search's metric)
    source = preset_source(name)
    exact = ExactSource(source)
    for objective in ("ar", "mlm:2", "dar:2"):
        brute = Brute(source, objective)
        for k in (1, 2):
            spectrum = brute.context(k)["singular_values"]
            tied = spectrum[k - 1] - spectrum[k] <= AMBIGUITY_TOL
            for key, metric in METRICS.items():
                if metric.uses_subspace and tied:
                    continue
                want = ORACLES[key](brute, k, source.length)
                got = metric.read(exact, objective, k)
                assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (objective, k, key)


@pytest.mark.parametrize("name", ["markov:1", "hmm:2", "positional"])
def test_every_setting_matches_the_brute_force_verdict(name):
    source = preset_source(name)
    cache: dict = {}
    checked = 0
    for row in robust_rows(source):
        for entry in row.settings:
            k = entry.setting.k or 1
            values = {}
            for objective in entry.values:
                if objective not in cache:
                    cache[objective] = Brute(source, objective)
                values[objective] = ORACLES[row.key](cache[objective], k, source.length)
            winner = next(n for n in values if n != next(iter(values)))
            spectra = [cache[n].context(k)["singular_values"] for n in values]
            ambiguous = METRICS[row.key].uses_subspace and any(
                s[k - 1] - s[k] <= AMBIGUITY_TOL for s in spectra
            )
            expected = decide(values[winner], values[next(iter(values))], better=row.better,
                              tol=EXACT_TOL, ambiguous=ambiguous)  # fmt: skip
            assert entry.verdict == expected, (row.metric, entry.setting, values, entry.values)
            checked += 1
    assert checked >= 60


def test_every_admissible_setting_is_evaluated():
    source = preset_source("markov")  # V = 3, T = 5
    rows = {(r.claim, r.winner, r.metric): r for r in robust_rows(source)}
    phi = rows["C2", "mlm:m", "context graph: phi"]
    assert [e.setting.label() for e in phi.settings] == ["m=1", "m=2", "m=3", "m=4"]
    bound = rows["C4", "dar:J", "T2' bound 2 alpha/(1 - lambda_(k+1))"]
    assert [(e.setting.value, e.setting.k) for e in bound.settings] == [
        (j, k) for j in (2, 3, 4) for k in (1, 2, 3)
    ]
    assert sum(bound.counts.values()) == 9


def test_verdicts_that_depend_on_the_setting_name_their_flips():
    # markov, probe on averaged features: AR wins at k = 2, every mlm:m wins at k = 3
    rows = robust_rows(preset_source("markov"), claims=("C2",))
    probe = next(r for r in rows if r.metric == "probe error on exact h(x)")
    assert probe.verdict == "depends"
    assert {f"m={m}: k 2->3 (fails->holds)" for m in (1, 2, 3, 4)} <= set(probe.flips)
    assert "m=1 k=3" in probe.where("holds")


def test_ambiguous_past_the_rank():
    # iid topic model: Abar has rank 2 under ar, so k = 3 leaves s_3 = s_4 = 0
    rows = robust_rows(preset_source("topic"), claims=("C2",))
    probe = next(r for r in rows if r.metric == "probe error on exact h(x)")
    ambiguous = [e.setting for e in probe.settings if e.verdict == "ambiguous"]
    assert ambiguous and all(s.k is not None and s.k >= 2 for s in ambiguous)


def test_population_ari_and_near_ties_are_reported():
    assert population_ari(np.array([[0.5, 0.0], [0.0, 0.5]])) == 1.0
    # two well-separated pairs of points, classes mixed inside each: ARI 0, one optimum
    x = np.array([[0.0], [0.01], [5.0], [5.01]])
    pz = np.full((4, 2), 0.125)
    result = population_clustering(x, pz, restarts=5, seed=0)
    assert result.ari == pytest.approx(0.0) and result.sse_gap == np.inf
    # sbm-walk: the robust table says where each clustering comparison is decided
    rows = robust_rows(resolve_source("sbm-walk"), claims=("C2",))
    ari = next(r for r in rows if r.metric.startswith("population k-means"))
    assert all("SSE" in e.note for e in ari.settings if e.verdict != "ambiguous")


def test_summary_fits_in_100_columns():
    rows = [r for name in ("topic", "sbm-walk", "hmm") for r in robust_rows(preset_source(name))]
    table = summary_table(rows)
    assert max(len(line) for line in table.splitlines()) <= 100
    assert table.splitlines()[0].split()[1:] == ["topic", "sbm-walk", "hmm"]


def _row(verdicts: list[str]) -> RobustRow:
    settings = tuple(
        SettingVerdict(Setting("m", value, None), {}, verdict)
        for value, verdict in enumerate(verdicts, start=1)
    )
    return RobustRow(claim="C2", source="s", metric="phi", key="phi", winner="mlm:m",
                     other="ar", better="lower", tolerance=1e-9, settings=settings)  # fmt: skip


@pytest.mark.parametrize(
    "verdicts, label",
    [
        (["fails", "fails"], "fails everywhere"),
        (["fails", "tie", "ambiguous"], "fails wherever decided"),
        (["holds", "ambiguous"], "holds wherever decided"),
        (["holds", "fails"], "depends"),
        (["tie", "tie"], "tie everywhere"),
        (["tie", "ambiguous"], "tie wherever compared"),
        (["ambiguous"], "ambiguous everywhere"),
    ],
)
def test_a_row_label_says_only_what_its_settings_say(verdicts, label):
    assert _row(verdicts).verdict == label


def test_flips_include_changes_to_and_from_a_tie():
    row = _row(["holds", "tie", "ambiguous", "holds"])
    assert row.flips == ("m 1->2 (holds->tie)", "m 2->4 (tie->holds)")
