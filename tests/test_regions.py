"""Families, phase maps, witness search, certificates and verify (where the claims hold)."""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from brute import Brute

from lookaround.cli import main
from lookaround.simulations.maps import map_point, plan_map
from lookaround.simulations.metrics import METRICS
from lookaround.simulations.search import T3_DRAWS, search_witness
from lookaround.simulations.spaces import family_space, round_spec
from lookaround.simulations.verify import verify_record
from lookaround.theory.analysis import analyze
from lookaround.theory.certificates import certify, exact_value
from lookaround.theory.families import FAMILIES, family_source
from lookaround.theory.objectives import parse_objective
from lookaround.theory.sources import source_from_dict

RATIONAL = [
    {"family": "markov", "prior": [0.5, 0.5], "init": [[0.5, 0.25, 0.25]] * 2,
     "trans": [[[0.5, 0.5, 0], [0, 0.5, 0.5], [0.5, 0, 0.5]],
               [[0.5, 0, 0.5], [0.5, 0.5, 0], [0, 0.5, 0.5]]], "length": 4},
    {"family": "hmm", "prior": [0.4, 0.6], "init": [[0.8, 0.2], [0.3, 0.7]],
     "trans": [[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5], [0.5, 0.5]]],
     "emit": [[[0.6, 0.3, 0.1], [0.1, 0.3, 0.6]], [[0.3, 0.4, 0.3], [0.2, 0.2, 0.6]]],
     "length": 4},
]  # fmt: skip


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_family_builds_a_source_at_its_defaults(name):
    source = family_source(f"{name}()")
    res = analyze(source, parse_objective("mlm:1", source.length), 1, level="context")
    assert res.level("context").holds
    assert source.n_classes == (1 if name == "mess3" else 2)  # Mess3: one process, no classes


@pytest.mark.parametrize(
    "argv, message",
    [
        (["analyze", "--source", "nosuch(a=1)", "--objective", "ar", "--k", "1"],
         "unknown family 'nosuch'"),
        (["analyze", "--source", "markov2(stick=1.5)", "--objective", "ar", "--k", "1"],
         "markov2.stick must be in [0, 1], got 1.5"),
        (["analyze", "--source", "markov2(V=2.5)", "--objective", "ar", "--k", "1"],
         "markov2.V must be an integer"),
        (["analyze", "--source", "markov2(V=2)", "--objective", "ar", "--k", "1"],
         "markov2.V must be in [3, 6]"),
        (["map", "markov2", "--x", "stick=0:1:0", "--claim", "C2", "--metric", "phi"],
         "n must be in 1..10000"),
        (["map", "markov2", "--x", "stik=0:1:3", "--claim", "C2", "--metric", "phi"],
         "markov2 has no parameter 'stik'"),
        (["map", "markov2", "--x", "overlap=0:0.9:3", "--claim", "C2", "--metric", "phi"],
         "markov2.overlap must be in [0, 0.5], got 0.9"),
        (["map", "markov2", "--x", "stick=0:1:3", "--claim", "C3", "--metric", "phi"],
         "C3 compares generation"),
        (["map", "markov2", "--x", "stick=0:1:200", "--y", "overlap=0:0.5:200", "--claim",
          "C2", "--metric", "phi"], "more than 10000"),
        (["map", "nosuch", "--x", "a=0:1:2", "--claim", "C2", "--metric", "phi"],
         "unknown family 'nosuch'"),
        (["search", "--claim", "C2", "--metric", "ari", "--family", "markov2"],
         "--metric must be certifiable"),
        (["search", "--claim", "C2", "--metric", "s_k1", "--shape", "2,9,4"],
         "--shape V must be in [2, 4], got 9"),
        (["search", "--claim", "C2", "--metric", "s_k1"], "one of the arguments --family --shape is required"),
    ],
)  # fmt: skip
def test_bad_regions_input_is_one_line_and_exit_2(capsys, tmp_path, argv, message):
    code, out, err = run(
        capsys, *argv, *(["--out", str(tmp_path / "o.json")] if argv[0] != "analyze" else [])
    )
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.iterdir())  # refused before any work or file


def test_map_runs_resumes_and_draws(capsys, tmp_path):
    out, plot = tmp_path / "map.jsonl", tmp_path / "map.png"
    argv = ["map", "markov2(T=4)", "--x", "stick=0.2:0.8:3", "--y", "overlap=0:0.4:2",
            "--claim", "C2", "--metric", "t2p_bound", "--k", "all", "--out", str(out),
            "--jobs", "1"]  # fmt: skip
    code, text, _ = run(capsys, *argv, "--plot", str(plot))
    assert code == 0 and "6 points computed" in text and plot.stat().st_size > 5000
    first = out.read_text()
    code, text, _ = run(capsys, *argv)
    assert code == 0 and "0 points computed, 6 already" in text and out.read_text() == first
    rows = [json.loads(line) for line in first.splitlines()[1:]]
    assert len(rows) == 6
    for row in rows:
        sign = {"holds": 1, "fails": -1, "tie": 0}[row["verdict"]]
        assert np.sign(row["margin"]) == sign or row["verdict"] == "tie"


def test_map_point_margin_is_the_metric_difference():
    request = plan_map(
        "markov2(T=4)",
        x="stick=0.5:0.5:1",
        y=None,
        claim="C2",
        metric="phi",
        k="1",
        objectives=None,
    )
    (config,) = request.configs()
    row = map_point(config)
    source = family_source("markov2(stick=0.5,T=4)")
    winner, other = (
        analyze(source, parse_objective(n, 4), 1).level("context").phi for n in ("mlm:0.4", "ar")
    )
    assert row["margin"] == pytest.approx(other - winner, abs=1e-15)


@pytest.mark.parametrize("spec", RATIONAL)
@pytest.mark.parametrize("objective", ["ar", "mlm:2", "dar:2"])
def test_certificate_roots_equal_the_float_spectrum(spec, objective):
    source = source_from_dict(spec)
    obj = parse_objective(objective, source.length)
    res = analyze(source, obj, source.vocab)
    for metric, level, square in (("s_k1", "context", False), ("lambda_k1", "sample", True)):
        value = exact_value(source, obj, metric=metric, k=1)
        mpmath.mp.dps = 60
        assert value.charpoly is not None, f"{metric} is proved from a characteristic polynomial"
        coefficients = [mpmath.mpf(Fraction(c).numerator) / Fraction(c).denominator
                        for c in value.charpoly]  # fmt: skip
        found = mpmath.polyroots(coefficients, maxsteps=200, extraprec=200)
        roots = sorted((mpmath.re(r) for r in found), reverse=True)
        found = res.level(level)
        spectrum = getattr(found, found.spectrum_name)
        floats = [float(r) if square else float(mpmath.sqrt(max(r, 0))) for r in roots]
        assert np.allclose(floats, spectrum[: len(floats)], atol=1e-12, rtol=0)
    for metric, number in (
        ("phi", res.level("context").phi),
        ("alpha", res.level("sample").alpha),
    ):
        assert float(exact_value(source, obj, metric=metric, k=1).value) == pytest.approx(
            number, abs=1e-12
        )


def test_search_finds_a_certified_witness_that_brute_force_confirms(tmp_path, capsys):
    witness = search_witness("C2", "s_k1", family_space("markov2(V=3,T=3)"), k=1, seed=3,
                             evaluations=150)  # fmt: skip
    assert witness.certificate.verdict == "fails"
    source = source_from_dict(witness.source)
    winner, other = (
        Brute(source, name).context(1)["singular_values"][1] for name in witness.objectives
    )
    assert other - winner < -1e-9  # lower is better: the masked side has the larger s_2
    assert float(witness.certificate.margin) == pytest.approx(other - winner, abs=1e-12)
    record = witness.record()
    assert verify_record(record) == []
    path = tmp_path / "w.json"
    path.write_text(json.dumps(record))
    code, text, _ = run(capsys, "verify", str(path))
    assert code == 0 and text.startswith("verified: C2 fails on s_k1")
    record = json.loads(path.read_text())
    record["certificate"]["winner"]["charpoly"][-1] = "1/7"  # tamper with the polynomial
    path.write_text(json.dumps(record))
    code, _, err = run(capsys, "verify", str(path))
    assert code == 3 and "does NOT verify" in err and "winner.charpoly" in err


def test_rounding_keeps_rows_exact_decimals():
    spec = family_space("hmm2()").spec(np.array([0.3, -1.2]))
    rounded = round_spec(spec, 20)

    def rows(value) -> list:
        return [value] if not isinstance(value[0], list) else [r for v in value for r in rows(v)]

    for key in ("prior", "init", "trans", "emit"):  # every row sums to 1 exactly, in decimals
        for row in rows(rounded[key]) if key != "prior" else [rounded[key]]:
            assert sum(Fraction(repr(x)) for x in row) == 1, (key, row)
            assert all(abs(Fraction(repr(x)).denominator) <= 10**20 for x in row)
    source = source_from_dict(rounded)
    value = certify(source, parse_objective("mlm:2", 5), parse_objective("ar", 5), metric="phi",
                    k=1, better=METRICS["phi"].better)  # fmt: skip
    # the exact certificate agrees with the float analysis of the same rounded source
    phi = {name: analyze(source, parse_objective(name, 5), 1).level("context").phi
           for name in ("mlm:2", "ar")}  # fmt: skip
    assert float(value.margin) == pytest.approx(phi["ar"] - phi["mlm:2"], abs=1e-12)


def test_tightest_t2_instance_found_stays_within_the_bound():
    # written by `lookaround search --theorem T2 ...` (README, "Where the claims hold")
    for name in ("stress_T2.json", "stress_T2prime.json"):
        record = json.loads(open(f"{__file__.rsplit('/', 1)[0]}/data/{name}").read())
        source = source_from_dict(record["source"])
        level = "context" if record["theorem"] == "T2" else "sample"
        res = getattr(analyze(source, parse_objective(record["objective"], source.length),
                              record["k"], level=level), level)  # fmt: skip
        assert res.probe_error <= res.bound + 1e-12
        assert res.probe_error / res.bound == pytest.approx(record["ratio"], abs=1e-9)


@pytest.mark.parametrize("name", ["c2_s2", "c4_phi"])
def test_committed_witnesses_verify_and_brute_force_agrees(name):
    path = f"{__file__.rsplit('/', 2)[0]}/examples/witnesses/{name}.json"
    record = json.loads(open(path).read())
    assert verify_record(record) == []
    source = source_from_dict(record["source"])
    brutes = [Brute(source, objective) for objective in record["objectives"]]
    if record["metric"] == "phi":
        winner, other = (b.context(1)["phi"] for b in brutes)
    else:
        winner, other = (b.context(1)["singular_values"][record["k"]] for b in brutes)
    assert float(record["certificate"]["margin"]) == pytest.approx(other - winner, abs=1e-12)


def test_t3prime_stress_reports_its_largest_ratio():
    from lookaround.simulations.rates import count_estimator_rate
    from lookaround.simulations.search import stress_theorem
    from lookaround.simulations.spaces import shape_space

    result = stress_theorem("T3'", shape_space("2,2,3"), "ar", k=1, seed=0, evaluations=5)
    # the instance found, scored again from its source alone: the largest ratio over lengths
    source = source_from_dict(result.source)
    rate = count_estimator_rate(source, parse_objective("ar", source.length), T3_DRAWS)
    covered = np.isfinite(rate.predicted) & (rate.predicted > 0)
    ratios = rate.excess[covered] / rate.predicted[covered]
    assert result.ratio == pytest.approx(ratios.max(), rel=1e-12) and result.ratio > 0
    assert result.numerator == pytest.approx(rate.excess[covered][np.argmax(ratios)], rel=1e-12)
    # a longer search from the same seed extends the same one: its largest ratio never drops
    longer = stress_theorem("T3'", shape_space("2,2,3"), "ar", k=1, seed=0, evaluations=15)
    assert longer.ratio >= result.ratio
    record = result.record()
    assert record["theorem"] == "T3'" and record["excess"] == result.numerator
    assert record["predicted"] == result.denominator and "probe_error" not in record


def test_search_for_a_holding_witness_with_an_infinite_margin(tmp_path, capsys):
    out = tmp_path / "holds.json"
    code, text, err = run(capsys, "search", "--claim", "C3", "--metric", "chi", "--family",
                          "markov2", "--holds", "--evaluations", "30", "--out", str(out))  # fmt: skip
    assert code == 0 and "C3 holds on chi" in text and err == ""
    assert verify_record(json.loads(out.read_text())) == []


def test_a_search_budget_in_evaluations_gives_the_same_witness_twice():
    space = family_space("markov2(V=3,T=3)")
    first, second = (
        search_witness("C2", "s_k1", space, k=1, seed=3, evaluations=120) for _ in range(2)
    )
    assert first.search.evaluations == second.search.evaluations <= 120 + 1
    assert first.source == second.source and first.search.found_margin == second.search.found_margin
    assert first.certificate.margin == second.certificate.margin


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--evaluations", "0"], "--evaluations"),
        (["--budget", "inf"], "--budget must be a finite number of seconds > 0"),
        (["--budget", "-1"], "--budget must be a finite number of seconds > 0"),
        (["--theorem", "T2", "--claim", "C2"], "--theorem stresses a bound"),
        (["--claim", "C3", "--metric", "s_k1"], "s_k1 is a classification metric; C3 compares"),
        (["--claim", "C9", "--metric", "phi"], "--claim must be one of C2, C3, C4"),
    ],
)
def test_search_refuses_bad_budgets_and_pairs(capsys, tmp_path, argv, message):
    code, _, err = run(capsys, "search", "--family", "markov2", "--out", str(tmp_path / "w.json"),
                       *argv)  # fmt: skip
    assert code == 2 and message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "winner_poly, other_poly, winner_interval, other_interval, verdict",
    [
        # (x - 1/20)(x - 1/2) against (x - 1/20)(x - 1/3): both isolate 1/20 exactly
        (
            ["1", "-11/20", "1/40"],
            ["1", "-23/60", "1/60"],
            ("1/20", "1/20"),
            ("1/20", "1/20"),
            "tie",
        ),
        # x^2 - 2 against (x^2 - 2)(x - 3): sqrt 2 in overlapping, different intervals
        (["1", "0", "-2"], ["1", "-3", "-2", "6"], ("1.41", "1.42"), ("1.414", "1.4143"), "tie"),
        # x^2 - 2 against x^2 - 3: overlapping intervals, different roots: not proved equal
        (["1", "0", "-2"], ["1", "0", "-3"], ("1.4", "1.8"), ("1.5", "1.9"), "unresolved"),
    ],
)
def test_equal_roots_of_different_polynomials_are_proved_ties(
    winner_poly, other_poly, winner_interval, other_interval, verdict
):
    from lookaround.theory.certificates import ExactValue, _proved

    winner = ExactValue("lambda_k1", "", None, tuple(winner_poly), winner_interval)
    other = ExactValue("lambda_k1", "", None, tuple(other_poly), other_interval)
    assert _proved("lower", winner, other) == verdict


def _tampered(record: dict, path: str, value) -> dict:
    out = json.loads(json.dumps(record))
    *parents, last = path.split(".")
    target = out
    for name in parents:
        target = target[name]
    target[last] = value(target[last]) if callable(value) else value
    return out


@pytest.mark.parametrize(
    "path, value",
    [
        ("certificate.winner.value", lambda v: v[:-1] + ("1" if v[-1] != "1" else "2")),
        ("certificate.other.value", "0.5"),
        ("certificate.winner", None),  # replaced below by the other side: sides swapped
        ("certificate.better", "higher"),
        ("certificate.k", 2),
        ("claim", "C3"),
        ("search.denominator", 7),
        ("search.shrunk", {"V": 2, "T": 3}),
        ("search.found_margin", 0.5),
        ("wanted", "holds"),
    ],
)
def test_verify_catches_every_tampered_field(path, value):
    path_json = f"{__file__.rsplit('/', 2)[0]}/examples/witnesses/c4_phi.json"
    record = json.loads(open(path_json).read())
    assert verify_record(record) == []
    if value is None:
        certificate = record["certificate"]
        value = certificate["other"]
        record = _tampered(record, "certificate.other", certificate["winner"])
    assert verify_record(_tampered(record, path, value)) != []


def test_sources_show_accepts_a_family_call(capsys):
    assert main(["sources", "--show", "markov2(stick=0.8)"]) == 0
    spec = json.loads(capsys.readouterr().out)
    assert spec["family"] == "markov" and spec["trans"][0][0][0] == pytest.approx(0.8)


def test_map_over_every_k_leaves_out_the_k_past_both_ranks():
    config = {"family": "markov2", "knobs": {"stick": 0.5, "overlap": 0.1, "V": 3, "T": 5},
              "claim": "C2", "metric": "s_k1", "k": None, "objectives": ["mlm:2", "ar"]}  # fmt: skip
    every = map_point(config)
    each = [map_point({**config, "k": k}) for k in (1, 2, 3)]
    assert each[2]["verdict"] == "tie"  # k = V: s_4 = 0 on both sides, by construction
    assert every["k_used"] in (1, 2) and every["verdict"] != "tie"
    assert every["margin"] == min(row["margin"] for row in each[:2])


@pytest.mark.parametrize("command", ["analyze", "sweep", "verify"])
def test_a_fifo_or_a_directory_is_refused_before_it_is_opened(command, tmp_path, capsys):
    import os

    fifo = tmp_path / "named.json"
    os.mkfifo(fifo)  # opening it to read would block until a writer came
    argv = {
        "analyze": ["analyze", "--source", str(fifo), "--objective", "ar", "--k", "1"],
        "sweep": ["sweep", str(fifo), "--out", str(tmp_path / "out.jsonl")],
        "verify": ["verify", str(fifo)],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "is not a regular file (a FIFO)" in err
    folder = tmp_path / "folder.json"
    folder.mkdir()
    argv[argv.index(str(fifo))] = str(folder)
    assert main(argv) == 2
    assert "is not a regular file (a directory)" in capsys.readouterr().err
