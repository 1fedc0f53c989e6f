"""``pretrain``: transformers against the exact theory, and the helpers ``check --pretrain``
shares."""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from lookaround.base.errors import InputError
from lookaround.base.extras import require
from lookaround.cli.arguments import (
    comma,
    command,
    engine_arguments,
    integer,
    json_flag,
    real,
    seed,
)
from lookaround.cli.outputs import output
from lookaround.cli.render import dump
from lookaround.simulations.architectures import ARCHITECTURES, BottleneckConfig
from lookaround.simulations.evaluations import (
    EVALUATION_SEQUENCES,
    EVALUATIONS,
    MAX_EVAL_SEQUENCES,
    MIN_EVAL_SEQUENCES,
)
from lookaround.simulations.training import TrainingConfig


def pretrain_request(args: argparse.Namespace):
    from lookaround.simulations.agreement import PretrainRequest

    ks = comma(args.k, "--k", integer)
    settings = {"loss": args.loss, "k": max(ks)}
    for name in ("steps", "batch", "layers", "heads", "lr", "architecture", "bottleneck"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    widths = comma(args.width, "--width", integer) if args.width is not None else ()
    if len(widths) == 1:  # one width is a setting, as it always was
        settings["width"], widths = widths[0], ()
    return PretrainRequest(
        sources=comma(args.sources, "--sources"),
        objectives=comma(args.objectives, "--objectives"),
        seeds=comma(args.seeds, "--seeds", seed),
        ks=ks,
        settings=tuple(sorted(settings.items())),
        evaluation=args.evaluation,
        eval_sequences=args.eval_sequences,
        widths=widths,
        belief=args.belief,
    )


def require_transformer(what: str) -> None:
    for module in ("jax", "equinox", "optax"):
        require(module, "transformer", what)
    import jax

    try:  # JAX_PLATFORMS=cuda on a machine without CUDA fails here, inside jax
        jax.devices()
    except (RuntimeError, AssertionError, ValueError) as exc:
        platforms = os.environ.get("JAX_PLATFORMS")
        hint = f" (JAX_PLATFORMS={platforms!r}; unset it, or set it to 'cpu')" if platforms else ""
        detail = str(exc)[:120] or type(exc).__name__
        raise InputError(f"{what}: JAX cannot start a device{hint}: {detail}") from None


def results_path(request, out: str | None, what: str) -> Path:
    """The results file of a pretraining ``request``, checked before any work."""
    from lookaround.simulations.pretrain_runs import default_results_path

    return output(out or str(default_results_path(request)), what, results=True)


def trained_table(request, path: Path, args: argparse.Namespace):
    """Train (or resume) ``request`` into its results file: its :class:`PretrainTable`."""
    from lookaround.simulations.pretrain_runs import run_request

    return run_request(request, path, jobs=args.jobs, scheduler=args.scheduler,
                       progress=sys.stderr.isatty() and not args.quiet, repair=args.repair)  # fmt: skip


def _pretrain(args: argparse.Namespace) -> str:
    require_transformer("lookaround pretrain")

    request = pretrain_request(args)
    seconds = request.check()
    path = results_path(request, args.out, "--out")
    if sys.stderr.isatty() and not args.quiet:  # with the progress bar; an error stays one line
        from lookaround.simulations.pretrain_runs import announcement

        print(announcement(request, seconds, path), file=sys.stderr)
    table = trained_table(request, path, args)
    rows = table.rows
    if args.json:
        beliefs = {"beliefs": [asdict(r) for r in table.beliefs]} if request.belief else {}
        return dump({"request": request.header()["pretrain"], "rows": [asdict(r) for r in rows],
                     **beliefs})  # fmt: skip
    if args.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(asdict(rows[0])), lineterminator="\n")
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
        return buffer.getvalue().rstrip("\n")
    return table.summary()


def add_pretrain(sub) -> None:
    p = command(
        sub,
        "pretrain",
        "train tiny transformers under each objective's pattern law and set their verdicts "
        "beside the exact theory's (extra: transformer)",
        "lookaround pretrain --sources markov --objectives ar,mlm:2 --seeds 0,1 --k 2 --steps 500",
        _pretrain,
    )
    p.add_argument("--sources", default="topic,markov,hmm", help="comma-separated sources")
    p.add_argument("--objectives", default="ar,mlm:2,vmlm",
                   help="comma-separated; the first is compared with each other one")  # fmt: skip
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (paired across arms)")
    p.add_argument("--k", default="2,3", help="comma-separated k of the T1 map")
    p.add_argument("--loss", default="ce", help="ce or spectral (T1's loss, head of max k)")
    training, shape = TrainingConfig(), BottleneckConfig()
    p.add_argument("--steps", type=integer, help=f"optimizer steps (default {training.steps})")
    p.add_argument("--batch", type=integer, help=f"sequences per step (default {training.batch})")
    p.add_argument("--width", help="model dimension, or comma-separated widths trained side "
                   f"by side (default {shape.width})")  # fmt: skip
    p.add_argument("--layers", type=integer, help=f"transformer blocks (default {shape.layers})")
    p.add_argument("--heads", type=integer, help=f"attention heads (default {shape.heads})")
    p.add_argument("--lr", type=real, help="peak learning rate (default "
                   f"{np.format_float_scientific(training.lr, trim='-', exp_digits=1)})")  # fmt: skip
    p.add_argument("--architecture", choices=list(ARCHITECTURES),
                   help="; ".join(f"{a.name}: {a.summary}" for a in ARCHITECTURES.values())
                   + " (default transformer)")  # fmt: skip
    p.add_argument("--bottleneck", type=integer, help="a K-dimensional linear feature layer "
                   "between the trunk and the head, which every probe reads (the bottleneck "
                   f"architecture; default K = {shape.bottleneck} when it is named)")  # fmt: skip
    p.add_argument("--evaluation", choices=list(EVALUATIONS), default="auto",
                   help="exact: every sequence of the population; sampled: held-out draws with "
                   "95%% intervals on both sides; auto: exact where the population can be "
                   "enumerated (V^T <= 10^6), sampled past it")  # fmt: skip
    p.add_argument("--eval-sequences", type=integer, default=EVALUATION_SEQUENCES,
                   help=f"held-out sequences of a sampled evaluation, {MIN_EVAL_SEQUENCES}-"
                   f"{MAX_EVAL_SEQUENCES}")  # fmt: skip
    p.add_argument(
        "--belief",
        action="store_true",
        help="also the belief R^2 of every layer: the cross-fitted affine map onto "
        "the exact class posterior and hidden-state posterior (on the held-out draws, with "
        "95%% intervals, when the evaluation is sampled)",
    )
    p.add_argument("--out", help="results file (resumable); unset means pretrain-HASH.jsonl")
    engine_arguments(p, 1, "local processes, one thread each")
    json_flag(p, csv="the table")
