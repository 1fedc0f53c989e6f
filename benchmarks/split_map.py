"""The split map of docs/theory.md §10.5: which width, bottleneck, loss and probe make a
network's verdict on ``markov`` (``ar`` against ``mlm:2``, ``k = 2, 3``) agree with the exact one.

Every setting is one ``lookaround.pretrain`` request (3 seeds, 3000 steps), resumed from its
results file under ``--out``; the map is printed and drawn.

    python benchmarks/split_map.py [--out split-runs] [--jobs 2] [--figure docs/figures/split_map.png]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lookaround.figures.splits import plot_split_map
from lookaround.figures.style import WIDE, figure, save
from lookaround.simulations.pretrain_runs import default_results_path, run_request
from lookaround.simulations.split_map import format_split_map, split_map, split_requests


def main() -> None:
    parser = argparse.ArgumentParser(description="the split map of docs/theory.md §10.5")
    parser.add_argument("--out", default="split-runs", help="directory of the results files")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--figure", default="docs/figures/split_map.png")
    args = parser.parse_args()
    requests = split_requests("markov", ("ar", "mlm:2"), seeds=(0, 1, 2), ks=(2, 3),
                              widths=(2, 8, 32), bottlenecks=(2, 3),
                              losses=("ce", "spectral"))  # fmt: skip
    Path(args.out).mkdir(exist_ok=True)
    rows, started = [], time.perf_counter()
    for request in requests:
        seconds = request.check()
        path = Path(args.out) / default_results_path(request).name
        table = run_request(request, path, jobs=args.jobs)
        print(f"{path}: {table.done()} (modelled {seconds / 60:.1f} min on one process)")
        rows += table.rows
    print(f"all settings: {time.perf_counter() - started:.0f} s with --jobs {args.jobs}\n")
    cells = split_map(rows)
    print(format_split_map(cells))
    fig, ax = figure(WIDE, 3.0, None)
    plot_split_map(cells, ax=ax)
    print(f"\nfigure: {save(fig, Path(args.figure).with_suffix(''), 'png')}")


if __name__ == "__main__":
    main()
