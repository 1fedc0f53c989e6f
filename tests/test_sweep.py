"""Sweeps: expansion, resumption after a hard kill, the Dask path, bad grids."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lookaround.cli import main
from lookaround.simulations.sweep import expand, load_grid, run_sweep

GRID = """
[sweep]
mode = "train"
steps = 300
n_train = 4000
n_eval = 200

[grid]
source = ["markov:{source_seed}", "topic"]
source_seed = [0, 1]
objective = ["ar", "mlm:{ratio}", "dar:{J}"]
ratio = [0.2, 0.4]
J = [2, 3]
k = [1, 2]
seed = [0]
"""


def rows(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    return sorted(lines[1:])


@pytest.fixture
def grid(tmp_path: Path) -> Path:
    path = tmp_path / "grid.toml"
    path.write_text(GRID)
    return path


def test_expansion_fills_each_template_with_its_own_parameters(grid):
    configs = expand(load_grid(grid))
    # sources: markov:0, markov:1, topic; objectives: ar, mlm x2, dar x2; k x2
    assert len(configs) == 3 * 5 * 2
    assert {c["objective"] for c in configs} == {"ar", "mlm:0.2", "mlm:0.4", "dar:2", "dar:3"}


def test_killed_sweep_resumes_to_exactly_the_uninterrupted_rows(grid, tmp_path):
    reference = tmp_path / "reference.jsonl"
    run_sweep(grid, reference)
    interrupted = tmp_path / "interrupted.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from lookaround.cli import main; sys.exit(main(sys.argv[1:]))",
            "sweep",
            str(grid),
            "--out",
            str(interrupted),
        ],
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        if interrupted.exists() and len(interrupted.read_text().splitlines()) >= 6:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = len(interrupted.read_text().splitlines()) - 1
    assert 0 < written < 30, "the kill must land midway for this test to mean anything"
    with interrupted.open("a") as handle:  # what a kill inside a write leaves behind
        handle.write('{"hash": "partial')
    counts = run_sweep(grid, interrupted)
    assert counts["skipped"] == written and counts["ran"] == 30 - written
    assert rows(interrupted) == rows(reference)
    assert run_sweep(grid, interrupted)["ran"] == 0


def test_parallel_and_dask_give_the_same_rows(grid, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    local = tmp_path / "local.jsonl"
    run_sweep(grid, local, jobs=2)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = tmp_path / "dask.jsonl"
        run_sweep(grid, remote, scheduler=cluster.scheduler_address)
    assert rows(local) == rows(remote)
    assert len(rows(local)) == 30


@pytest.mark.parametrize(
    "text, message",
    [
        ("[grid]\nsource = ['topic']\n", "grid.objective must be a list of strings"),
        ("[grid]\nsource = ['topic']\nobjective = ['mlm:{m}']\n", "grid.m is not defined"),
        ("[grid]\nsource = ['topic']\nobjective = ['ar']\nJ = [2]\n", "grid.J is not used"),
        (
            "[grid]\nsource = ['topic']\nobjective = ['ar']\nk = [0]\n",
            "grid.k must hold integers >= 1",
        ),
        ("[grid\n", "is not valid TOML"),
        ("[grid]\nsource = ['topic']\nobjective = ['ar']\n[sweep]\nmode = 'fast'\n", "sweep.mode"),
    ],
)
def test_bad_grids(tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code = main(["sweep", str(path), "--out", str(tmp_path / "out.jsonl")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.jsonl").exists()


def test_results_file_of_another_grid_is_left_untouched(grid, tmp_path, capsys):
    out = tmp_path / "other.jsonl"
    out.write_text(json.dumps({"grid_hash": "0123456789abcdef"}) + "\n" + '{"hash": "x"}\n')
    before = out.read_bytes()
    code = main(["sweep", str(grid), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "belongs to another request" in err
    assert out.read_bytes() == before
