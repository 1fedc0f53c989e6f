"""One pretraining table three ways, side by side: ``--jobs 1``, ``--jobs 2`` and two
single-thread Dask workers (a ``LocalCluster``), each into a fresh results file.

Prints each route's wall time and its ratio to ``--jobs 1``, and checks that the three
results files hold the same rows bit for bit (every random choice comes from the run's seed,
so where a run executes must not change it).

    python benchmarks/parallel_pretrain.py [--source ginc] [--steps 300] [--eval-sequences 5000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from lookaround.base.results import read_records
from lookaround.simulations.agreement import PretrainRequest
from lookaround.simulations.pretrain_runs import run_request


def _rows(path: Path) -> list[str]:
    """Each run's row without its environment stamp, sorted by hash."""
    rows = [r for r in read_records(path) if "config" in r]
    return sorted(json.dumps({k: v for k, v in r.items() if k != "versions"}, sort_keys=True)
                  for r in rows)  # fmt: skip


def _timed(request: PretrainRequest, path: Path, route: str) -> float:
    """Seconds of ``request`` by ``route``; a Dask cluster is started before the clock, as a
    standing cluster would be."""
    if not route.startswith("dask"):
        start = time.perf_counter()
        run_request(request, path, jobs=int(route[-1]))
        return time.perf_counter() - start
    from dask.distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0")  # fmt: skip
    try:
        start = time.perf_counter()
        run_request(request, path, scheduler=str(cluster.scheduler_address))
        return time.perf_counter() - start
    finally:
        cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--source", default="ginc")
    parser.add_argument("--objectives", default="ar,mlm:2")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--eval-sequences", type=int, default=5000)
    args = parser.parse_args()
    request = PretrainRequest(
        sources=(args.source,), objectives=tuple(args.objectives.split(",")),
        seeds=tuple(int(s) for s in args.seeds.split(",")), ks=(2, 4),
        settings=(("k", 4), ("steps", args.steps)), eval_sequences=args.eval_sequences,
    )  # fmt: skip
    modelled = request.check()
    runs = len(request.objectives) * len(request.seeds)
    print(f"{args.source}: {runs} runs ({args.objectives}; seeds {args.seeds}; {args.steps} "
          f"steps; {args.eval_sequences} held-out sequences); modelled {modelled:.0f} s on one "
          "process")  # fmt: skip
    seconds, rows = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for route in ("jobs 1", "jobs 2", "dask 2 workers"):
            path = Path(tmp) / f"{route.replace(' ', '_')}.jsonl"
            seconds[route] = _timed(request, path, route)
            rows[route] = _rows(path)
            print(f"  {route:<15} {seconds[route]:7.1f} s  "
                  f"{seconds['jobs 1'] / seconds[route]:.2f}x of jobs 1", flush=True)  # fmt: skip
    same = all(r == rows["jobs 1"] for r in rows.values())
    print(f"  rows identical across routes: {same}")


if __name__ == "__main__":
    main()
