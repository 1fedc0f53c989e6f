"""The default table past enumeration (issue 26): ``ar``, ``mlm:2`` and ``vmlm`` on the
GINC-like preset, 3 seeds, 3000 steps, ``k = 2, 4``, sampled evaluation on 20,000 held-out
sequences; timed, printed and drawn (exact side against the networks, per objective).

The runs are resumed from ``--results``, so drawing again after a finished run costs only the
theory side (about 40 s). The wall time printed is this call's: run it on an empty file to
time the table.

    python benchmarks/ginc_table.py [--results ginc.jsonl] [--jobs 2] [--figure docs/figures/ginc_pretrain.png]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lookaround.figures.f11_pretrain import plot_pretrain
from lookaround.figures.style import WIDE, figure, legends_to_figure, save
from lookaround.simulations.agreement import PretrainRequest
from lookaround.simulations.pretrain_runs import run_request

# as `lookaround pretrain --sources ginc --k 2,4` builds it, so either resumes the other's file
REQUEST = PretrainRequest(sources=("ginc",), objectives=("ar", "mlm:2", "vmlm"), seeds=(0, 1, 2),
                          ks=(2, 4), settings=(("k", 4), ("loss", "ce")))  # fmt: skip
PANELS = (
    ("probe error, T1 map", 4),
    ("probe error, raw pattern-averaged", 2),
    ("generation excess (nats)", None),
)


def main() -> None:
    parser = argparse.ArgumentParser(description="the default ginc table, timed and drawn")
    parser.add_argument("--results", default="ginc.jsonl", help="results file (resumed)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--figure", default="docs/figures/ginc_pretrain.png")
    args = parser.parse_args()
    seconds = REQUEST.check()
    started = time.perf_counter()
    table = run_request(REQUEST, Path(args.results), jobs=args.jobs)
    print(f"{time.perf_counter() - started:.0f} s with --jobs {args.jobs} (modelled "
          f"{seconds / 60:.1f} min on one process)")  # fmt: skip
    print(table.summary())
    fig, axes = figure(WIDE, 2.4, None, ncols=len(PANELS))
    for ax, (metric, k) in zip(axes, PANELS):
        plot_pretrain([r for r in table.rows if r.k in (k, None)], metric=metric, ax=ax)
    axes[0].set_ylabel("value")
    legends_to_figure(fig, axes, ncols=2)
    print(f"\nfigure: {save(fig, Path(args.figure).with_suffix(''), 'png')}")


if __name__ == "__main__":
    main()
