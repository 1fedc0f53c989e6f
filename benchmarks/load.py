"""Speed under load: analyses side by side, beside a busy core, and sweeps over workers.

Each case is timed as whole processes (``python -m lookaround ...``), the way a user and the
parallel drivers run them: ``analyze`` on a Markov chain with ``V = 10``, ``T = 8`` under
``ar`` (1.1e8 entries), and a sweep of 8 exact configurations at ``T = 7``. ``--baseline DIR`` runs the same cases against another
checkout (for example the release before the thread budget) through ``PYTHONPATH``, side by
side with this one.

    python benchmarks/load.py [--baseline /path/to/old/checkout] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRID = """[sweep]
mode = "exact"

[grid]
source = ["{source}"]
objective = ["ar", "mlm:2"]
k = [1, 2]
seed = [0, 1]
"""


def _source_file(folder: Path, length: int) -> Path:
    """A seeded two-class Markov chain with ``V = 10`` (the rungs of the ladder benchmark)."""
    import numpy as np

    rng = np.random.default_rng(0)
    vocab = 10
    spec = {
        "family": "markov", "length": length, "prior": [0.5, 0.5],
        "init": rng.dirichlet(np.ones(vocab), size=2).tolist(),
        "trans": rng.dirichlet(np.full(vocab, 0.3), size=(2, vocab)).tolist(),
    }  # fmt: skip
    path = folder / f"markov_v10_t{length}.json"
    path.write_text(json.dumps(spec))
    return path


def _env(root: Path | None) -> dict:
    env = dict(os.environ)
    if root is not None:
        env["PYTHONPATH"] = str(root)
    return env


def _analyze(source: Path, root: Path | None) -> subprocess.Popen:
    argv = [sys.executable, "-m", "lookaround", "analyze", "--source", str(source),
            "--objective", "ar", "--k", "3", "--level", "context"]  # fmt: skip
    return subprocess.Popen(argv, env=_env(root), stdout=subprocess.DEVNULL)


def _wait(processes: list[subprocess.Popen]) -> None:
    for p in processes:
        if p.wait() != 0:
            raise SystemExit("a benchmarked command failed")


def _timed(start) -> float:
    began = time.perf_counter()
    start()
    return time.perf_counter() - began


def _busy() -> subprocess.Popen:
    """A process that keeps one core busy until it is killed."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def cases(source: Path, grid: Path, folder: Path, root: Path | None) -> dict[str, float]:
    times = {
        "one alone": _timed(lambda: _wait([_analyze(source, root)])),
        "two side by side": _timed(lambda: _wait([_analyze(source, root) for _ in range(2)])),
        "two in sequence": _timed(lambda: [_wait([_analyze(source, root)]) for _ in range(2)]),
    }
    busy = _busy()
    try:
        times["one beside a busy core"] = _timed(lambda: _wait([_analyze(source, root)]))
    finally:
        busy.kill()
    for jobs in (1, 2):
        name = f"sweep of 8 exact configurations, --jobs {jobs}"
        times[name] = _sweep(grid, folder, root, ["--jobs", str(jobs)])
    times["the same sweep on Dask, 2 workers x 1 thread"] = _dask_sweep(grid, folder, root)
    return times


def _sweep(grid: Path, folder: Path, root: Path | None, options: list[str]) -> float:
    out = folder / f"sweep-{time.perf_counter_ns()}.jsonl"
    argv = [sys.executable, "-m", "lookaround", "sweep", str(grid), "--out", str(out), *options]
    return _timed(
        lambda: subprocess.run(argv, env=_env(root), check=True, stdout=subprocess.DEVNULL)
    )


def _dask_sweep(grid: Path, folder: Path, root: Path | None) -> float:
    """The sweep on a local Dask cluster of two single-thread worker processes (started
    before the clock, as a standing cluster would be)."""
    from dask.distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0")  # fmt: skip
    try:
        return _sweep(grid, folder, root, ["--scheduler", str(cluster.scheduler_address)])
    finally:
        cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to time beside this one")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    routes = {"this checkout": None, **({"baseline": args.baseline} if args.baseline else {})}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source, grid = _source_file(folder, 8), folder / "grid.toml"
        grid.write_text(GRID.replace("{source}", str(_source_file(folder, 7))))
        runs: dict[str, dict[str, list[float]]] = {name: {} for name in routes}
        for _ in range(args.repeats):
            for name, root in routes.items():  # alternate, so both see the same machine
                for case, seconds in cases(source, grid, folder, root).items():
                    runs[name].setdefault(case, []).append(seconds)
    print(f"seconds, medians of {args.repeats}; {os.cpu_count()} cores")
    for name, table in runs.items():
        print(f"\n{name}")
        for case, values in table.items():
            print(f"  {case:<45} {statistics.median(values):7.2f}")


if __name__ == "__main__":
    main()
