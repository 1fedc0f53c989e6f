"""A fuzz suite that stays: thousands of malformed inputs per run, and every one of them ends
in exit 0 with strict JSON, or exit 2 with one line on stderr; never a traceback, never a
half-written file. (4 tests x 500 examples = 2,000 generated inputs per run.)"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lookaround.cli import main

FUZZ = settings(max_examples=500, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _strict(text: str) -> object:
    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name}")

    return json.loads(text, parse_constant=refuse)


def _assert_contract(argv: list[str], code: int, out: str, err: str, json_out: bool) -> None:
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("lookaround: error: "), (argv, err)
    elif json_out:
        _strict(out)


NAMES = ["ar", "ar:last", "dar", "mlm", "vmlm", "prefixlm", "span", "plm", "bert", ""]
PARAMS = st.one_of(
    st.none(),
    st.integers(-3, 15).map(str),
    st.sampled_from(["0.15", "1.5", ".5", "1-3", "3-1", "2 ", "\u0662", "1_0", "", "last", "x"]),
    st.text(max_size=4),
)
objectives = st.builds(
    lambda name, param: name if param is None else f"{name}:{param}", st.sampled_from(NAMES), PARAMS
)
lengths = st.one_of(st.integers(-3, 11), st.sampled_from([10**6, 20000, 30]))


@FUZZ
@given(objective=objectives, length=lengths)
def test_coverage_on_malformed_objectives(objective, length):
    argv = ["coverage", "--objective", objective, "--length", str(length), "--json"]
    _assert_contract(argv, *_run(argv), json_out=True)


def _json_values(depth: int = 2):
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5))  # fmt: skip
    return st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                        st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=12)  # fmt: skip


VALID = {
    "iid": {"family": "iid", "prior": [0.5, 0.5], "emit": [[0.7, 0.3], [0.2, 0.8]], "length": 3},
    "markov": {"family": "markov", "prior": [0.5, 0.5], "init": [[0.5, 0.5], [0.9, 0.1]],
               "trans": [[[0.8, 0.2], [0.3, 0.7]], [[0.5, 0.5], [0.5, 0.5]]], "length": 3},
    "graph_walk": {"family": "graph_walk", "sizes": [2, 2], "p": [[0.9, 0.1], [0.1, 0.9]],
                   "length": 3},
}  # fmt: skip
KEYS = [
    "family",
    "prior",
    "emit",
    "init",
    "trans",
    "length",
    "sizes",
    "p",
    "seed",
    "name",
    "lenght",
]


@st.composite
def sources(draw) -> str:
    spec = json.loads(json.dumps(draw(st.sampled_from(list(VALID.values())))))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(KEYS))
        action = draw(st.sampled_from(["drop", "set", "length"]))
        if action == "drop":
            spec.pop(key, None)
        elif action == "length":
            spec["length"] = draw(st.sampled_from([0, 1, 2, 4, -1, 10**9, 2.5, "3", True]))
        else:
            spec[key] = draw(_json_values())
    text = json.dumps(spec)
    if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:  # sometimes not JSON at all
        text = text[: draw(st.integers(0, len(text)))]
    return text


@FUZZ
@given(text=sources(), objective=st.sampled_from(["ar", "mlm:1", "dar:2", "plm"]),
       k=st.sampled_from(["1", "2", "0", "9"]))  # fmt: skip
def test_analyze_on_malformed_sources(text, objective, k):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source.json"
        path.write_text(text)
        argv = ["analyze", "--source", str(path), "--objective", objective, "--k", k,
                "--level", "context", "--json"]  # fmt: skip
        _assert_contract(argv, *_run(argv), json_out=True)


FLAG_VALUES = st.one_of(
    st.integers(-5, 40).map(str),
    st.sampled_from(["inf", "nan", "-0", "1e9", "0x10", "\u0663", "3.5", "", "10000000000"]),
    st.text(max_size=5),
)


@FUZZ
@given(k=FLAG_VALUES, draws=FLAG_VALUES, seed=FLAG_VALUES, memory=FLAG_VALUES,
       boot=FLAG_VALUES, mode=st.sampled_from(["exact", "sampled", "mc"]))  # fmt: skip
def test_numeric_flags(k, draws, seed, memory, boot, mode):
    argv = ["analyze", "--source", "topic", "--objective", "ar:last", "--k", k, "--seed", seed,
            "--json", "--level", "context"]  # fmt: skip
    if mode == "exact":
        argv += ["--max-memory", memory]
    elif mode == "sampled":
        argv += ["--sampled", draws, "--bootstrap", boot]
    elif mode == "mc":
        argv += ["--mc", draws]
    _assert_contract(argv, *_run(argv), json_out=True)


GRID_LINES = st.sampled_from([
    'source = ["topic"]', 'objective = ["ar"]', 'objective = ["mlm:{m}"]', "m = [1, 2]",
    "m = [99]", 'k = [1]', "k = [0]", "k = [-1]", "seed = [-1]", "seed = [0]", 'mode = "train"',
    'steps = "many"', "steps = 5", "n_train = 0", "J = [2]", 'source = ["markov:{s}"]',
    "s = [0, 1]", 'objective = ["mlm:{ratio"]', 'model = "big"', "[grid]", "[sweep]", "[other]",
    'source = "topic"', "= 3", 'objective = ["dar:1_0"]',
])  # fmt: skip


@FUZZ
@given(lines=st.lists(GRID_LINES, max_size=8), header=st.booleans())
def test_sweep_on_malformed_grids(lines, header):
    with tempfile.TemporaryDirectory() as folder:
        grid, out = Path(folder) / "grid.toml", Path(folder) / "out.jsonl"
        grid.write_text(("[grid]\n" if header else "") + "\n".join(lines) + "\n")
        argv = ["sweep", str(grid), "--out", str(out), "--jobs", "1"]
        code, stdout, err = _run(argv)
        _assert_contract(argv, code, stdout, err, json_out=False)
        if code == 2:
            assert not out.exists()  # refused before any row was written
        else:
            rows = out.read_text().splitlines()
            assert rows and all(isinstance(_strict(r), dict) for r in rows)


WITNESS = json.loads(
    (Path(__file__).resolve().parents[1] / "examples" / "witnesses" / "c2_s2.json").read_text()
)
WITNESS_FIELDS = ["claim", "metric", "k", "objectives", "wanted", "search", "source",
                  "certificate", "kind"]  # fmt: skip


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 120)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(field=st.sampled_from(WITNESS_FIELDS), value=_json_values(),
       inner=st.sampled_from([None, "k", "winner", "metric", "length", "shrunk"]))  # fmt: skip
def test_verify_on_malformed_witnesses(field, value, inner):
    """A witness with one field (or one field inside it) replaced by any JSON value: exit 0,
    3 (does not verify) or 2 with one line; never a traceback or an internal error."""
    record = json.loads(json.dumps(WITNESS))
    target = record.get(field)
    if inner is not None and isinstance(target, dict):
        target[inner] = value
    else:
        record[field] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "w.json"
        path.write_text(json.dumps(record))
        argv = ["verify", str(path)]
        code, out, err = _run(argv)
        if code != 3:
            _assert_contract(argv, code, out, err, json_out=False)
        else:
            assert "does NOT verify" in err and len(err.strip().splitlines()) == 1, err
