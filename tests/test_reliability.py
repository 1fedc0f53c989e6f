"""Every bad input of the reliability report gets one line and exit 2; sweeps survive
corruption, a second writer, a bad entry deep in a grid, and training that diverges."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lookaround.cli import main


def _files(folder: Path) -> dict[str, Path]:
    """Hostile and misspelt source files, written fresh for each test."""
    contents = {
        "big_len.json": json.dumps({"family": "iid", "prior": [1.0], "emit": [[0.5, 0.5]],
                                    "length": 10**9}),
        "gw_big.json": json.dumps({"family": "graph_walk", "sizes": [100000, 100000],
                                   "p": [[0.9, 0.1], [0.1, 0.9]], "length": 4}),
        "latin1.json": b'{"family": "iid", "prior": [1.0], "emit": [[0.5, 0.5]], '
                       b'"length": 2, "name": "\\xe9"}'.decode("unicode_escape").encode("latin-1"),
        "bigint.json": '{"family": "iid", "prior": [1.0], "emit": [[0.5, 0.5]], "length": '
                       + "9" * 5000 + "}",
        "deep.json": '{"family": "iid", "prior": ' + "[" * 100000 + "]" * 100000 + "}",
        "gw_priors.json": json.dumps({"family": "graph_walk", "sizes": [2, 2],
                                      "p": [[0.9, 0.1], [0.1, 0.9]], "length": 3,
                                      "priors": [0.5, 0.5]}),
        "iid_lenght.json": json.dumps({"family": "iid", "prior": [1.0], "emit": [[0.5, 0.5]],
                                       "length": 2, "lenght": 3}),
        "nan.json": '{"family": "iid", "prior": [NaN, 1.0], "emit": [[0.5, 0.5]], "length": 2}',
    }  # fmt: skip
    paths = {}
    for name, text in contents.items():
        path = folder / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        paths[name] = path
    return paths


A = ["analyze", "--source", "markov", "--objective", "mlm:2"]
CASES = [
    ([*A, "--k", "-1", "--sampled", "100"], "k must be an integer with 1 <= k <= V = 3"),
    ([*A, "--k", "0", "--sampled", "100"], "k must be an integer with 1 <= k <= V = 3"),
    ([*A, "--k", "1000000000"], "k must be an integer with 1 <= k <= V = 3"),
    ([*A, "--k", "2", "--sampled", "10000000000"], "--sampled must be an integer in [2, 20000000]"),
    (["analyze", "--source", "{big_len.json}", "--objective", "ar", "--k", "1"],
     "source.length must be an integer in [1, 4096]"),
    (["analyze", "--source", "{gw_big.json}", "--objective", "ar", "--k", "1"],
     "source.sizes sum to 200000 nodes"),
    (["coverage", "--objective", "ar", "--length", "20000"], "sequence length must be an integer in [2, 4096]"),
    (["coverage", "--objective", "vmlm", "--length", "30"], "patterns"),
    (["coverage", "--objective", "plm", "--length", "26"], "patterns"),
    (["simulate", "--source", "topic", "--objective", "ar", "--n-train", "10000000000"],
     "--n-train must be an integer in [2, 20000000]"),
    ([*A, "--k", "1", "--sampled", "100", "--seed", "-1"], "a seed must be an integer in [0,"),
    (["analyze", "--source", "markov:-1", "--objective", "ar", "--k", "1"], "NAME:SEED takes a seed"),
    (["analyze", "--source", "markov:", "--objective", "ar", "--k", "1"], "NAME:SEED takes a seed"),
    (["simulate", "--source", "topic", "--objective", "ar", "--lr", "inf"],
     "--lr: expected a decimal number, got 'inf'"),
    (["analyze", "--source", "{latin1.json}", "--objective", "ar", "--k", "1"], "is not UTF-8"),
    (["analyze", "--source", "{bigint.json}", "--objective", "ar", "--k", "1"], "not valid JSON"),
    (["analyze", "--source", "{deep.json}", "--objective", "ar", "--k", "1"], "nested too deeply"),
    (["analyze", "--source", "{nan.json}", "--objective", "ar", "--k", "1"], "bare NaN"),
    ([*A, "--k", "1", "--max-memory", "inf"], "--max-memory (GB) must be a finite number > 0"),
    (["analyze", "--source", "{gw_priors.json}", "--objective", "ar", "--k", "1"],
     "did you mean 'prior'?"),
    (["analyze", "--source", "{iid_lenght.json}", "--objective", "ar", "--k", "1"],
     "did you mean 'length'?"),
    ([*A[:-1], "mlm:\u0662", "--k", "1"], "ASCII"),
    ([*A[:-1], "dar:1_0", "--k", "1"], "ASCII"),
    ([*A[:-1], "mlm:2 ", "--k", "1"], "ASCII"),
    ([*A[:-1], "ar:", "--k", "1"], "ASCII"),
    ([*A[:-1], "dar:99", "--k", "1"], "dar:4 is prefixlm"),
    (["coverage", "--objective", "dar:9", "--length", "5"], "dar:J needs 2 <= J <= T-1 = 4"),
    (["analyze", "--source", "markov", "--objective", "ar", "--k", "1", "--bootstrap", "0"],
     "--bootstrap sets the replicates of --sampled"),
    (["coverage", "--objective", "ar", "--length", "5", "--fallback", "marginal"],
     "--fallback chooses"),
    (["derive", "t1", "--list"], "derive --list takes no NAME"),
    (["verify", "{deep.json}"], "witness file"),
    (["verify", "{iid_lenght.json}"], "not a witness written by `lookaround search`"),
    (["sweep", "{grid.toml}", "--scheduler", "not a url", "--out", "{o.jsonl}"],
     "--scheduler must be a TCP address"),
]  # fmt: skip


@pytest.mark.parametrize("argv, message", CASES, ids=[" ".join(c[0][:3]) for c in CASES])
def test_every_reported_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    paths = {**_files(tmp_path), "grid.toml": tmp_path / "grid.toml", "o.jsonl": tmp_path / "o"}
    paths["grid.toml"].write_text('[grid]\nsource = ["topic"]\nobjective = ["ar"]\n')
    filled = [str(paths[a[1:-1]]) if a.startswith("{") else a for a in argv]
    code = main(filled)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not paths["o.jsonl"].exists()


GRID = """
[sweep]
mode = "{mode}"
steps = 40
n_train = 2000
n_eval = 100

[grid]
source = ["topic", "markov"]
objective = {objectives}
k = [1, 2]
"""


def _grid(tmp_path: Path, objectives: str = '["ar", "mlm:2"]', mode: str = "exact") -> Path:
    path = tmp_path / "grid.toml"
    path.write_text(GRID.format(objectives=objectives, mode=mode))
    return path


def test_a_bad_entry_deep_in_a_grid_is_refused_before_any_run(tmp_path, capsys):
    grid = _grid(tmp_path, '["ar", "mlm:2", "mlm:99"]')
    out = tmp_path / "out.jsonl"
    assert main(["sweep", str(grid), "--out", str(out), "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert "'mlm:99'" in err and "mask count 99" in err and not out.exists()
    grid.write_text(GRID.format(objectives='["ar", "mlm:2"]', mode="exact"))  # corrected
    assert main(["sweep", str(grid), "--out", str(out), "--jobs", "1"]) == 0


def test_corrupt_lines_are_named_and_repaired(tmp_path, capsys):
    grid, out = _grid(tmp_path), tmp_path / "out.jsonl"
    assert main(["sweep", str(grid), "--out", str(out), "--jobs", "1"]) == 0
    lines = out.read_text().splitlines()
    good = lines[1:]
    damaged = [lines[0], good[0], "{truncated", "", '{"foo": 1}', "[1, 2]", *good[1:]]
    out.write_text("\n".join(damaged) + "\n")
    capsys.readouterr()
    assert main(["sweep", str(grid), "--out", str(out), "--jobs", "1"]) == 2
    assert f"{out}:3 is corrupt" in capsys.readouterr().err
    assert main(["sweep", str(grid), "--out", str(out), "--jobs", "1", "--repair"]) == 0
    assert "0 runs done" in capsys.readouterr().out
    assert sorted(out.read_text().splitlines()[1:]) == sorted(good)
    quarantined = Path(f"{out}.corrupt").read_text().splitlines()
    assert quarantined == ["{truncated", "", '{"foo": 1}', "[1, 2]"]


def test_a_second_writer_is_refused(tmp_path):
    grid, out = _grid(tmp_path, mode="train"), tmp_path / "out.jsonl"
    # enough training that the first sweep still holds the lock when the second arrives
    grid.write_text(grid.read_text().replace("steps = 40", "steps = 3000"))
    argv = [
        sys.executable,
        "-m",
        "lookaround",
        "sweep",
        str(grid),
        "--out",
        str(out),
        "--jobs",
        "1",
    ]
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):  # the first sweep holds the lock once its header is written
            if out.exists() and out.read_bytes().endswith(b"\n"):
                break
            __import__("time").sleep(0.05)
        second = subprocess.run(argv, capture_output=True, text=True)
    finally:
        first.communicate(timeout=600)
    assert first.returncode == 0
    assert second.returncode == 2 and "is being written by another sweep" in second.stderr
    rows = out.read_text().splitlines()[1:]
    assert len(rows) == len({json.loads(r)["hash"] for r in rows}) == 8  # no row twice


def test_training_that_diverges_is_a_result_row(tmp_path):
    from lookaround.simulations.sweep import run_config

    config = {"source": "topic", "objective": "ar", "k": 1, "seed": 0, "mode": "train",
              "model": "tabular", "loss": "ce", "steps": 40, "n_train": 2000,
              "n_eval": 100}  # fmt: skip
    import lookaround.simulations.runs as runs

    # the spectral loss backtracks and cannot diverge; Adam on cross-entropy at 1e300 does
    defaults = dict(runs.DEFAULTS[("tabular", "ce")])
    try:
        runs.DEFAULTS[("tabular", "ce")]["lr"] = 1e300
        row = run_config(config)
    finally:
        runs.DEFAULTS[("tabular", "ce")].update(defaults)
    assert row["status"] == "diverged" and "diverged" in row["detail"]
    assert row["trained_gap"] != row["trained_gap"]  # nan
    assert row["phi"] == row["phi"]  # the exact part is still there
