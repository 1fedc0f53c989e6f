"""``lookaround``: the command line, a thin shell over ``theory``, ``simulations`` and ``figures``.

Each subcommand parses, calls one library function and prints. Library imports happen inside
the handlers, so ``lookaround --help`` and the theory commands never load sympy, matplotlib
or the simulation code.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence

from theory.errors import InputError

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit 2, like every other bad input."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        raise _Usage(f"{self.prog}: {message}")


class _Usage(Exception):
    pass


def _dump(obj: dict) -> str:
    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None if math.isnan(value) else "inf"
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return json.dumps(clean(obj))


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return (
            "[" + ", ".join(_fmt(v) for v in value[:8]) + (", ..." if len(value) > 8 else "") + "]"
        )
    return str(value)


def _table(title: str, rows: dict) -> str:
    width = max(len(k) for k in rows)
    return "\n".join([title] + [f"  {k:<{width}}  {_fmt(v)}" for k, v in rows.items()])


# --------------------------------------------------------------------------- handlers


def _analyze(args: argparse.Namespace) -> str:
    from theory.objectives import parse_objective
    from theory.presets import resolve_source

    source = resolve_source(args.source)
    objective = parse_objective(args.objective, source.length)
    if args.max_memory is not None and not args.max_memory > 0:
        raise InputError(f"--max-memory must be > 0 GB, got {args.max_memory}")
    if args.sampled is not None:
        from theory.estimates import estimate_context

        if args.level not in (None, "context"):
            raise InputError(
                f"--sampled estimates the context level only, not --level {args.level}"
            )
        estimate = estimate_context(
            source, objective, args.k, args.sampled, seed=args.seed, bootstrap=args.bootstrap
        )
        result = {
            "source": source.name,
            "objective": objective.name,
            "k": args.k,
            "context": estimate.to_dict(),
        }
    else:
        from theory.analysis import analyze

        max_memory = None if args.max_memory is None else int(args.max_memory * 2**30)
        result = analyze(
            source,
            objective,
            args.k,
            level=args.level or "both",
            max_memory=max_memory,
            progress=sys.stderr.isatty(),
        ).to_dict()
    if args.json:
        return _dump(result)
    head = f"source {result['source']}  objective {result['objective']}  k {result['k']}"
    parts = [head]
    for level, bound_name in (("context", "T2"), ("sample", "T2'")):
        if level in result:
            rows = dict(result[level])
            if "holds" in rows:
                rows["verdict"] = f"{bound_name} {'holds' if rows.pop('holds') else 'FAILS'}"
            parts.append(_table(f"{level} level", rows))
    return "\n".join(parts)


def _coverage(args: argparse.Namespace) -> str:
    from theory.coverage import alignment, generation_report, prefix_weights
    from theory.objectives import parse_objective

    objective = parse_objective(args.objective, args.length)
    weights = prefix_weights(objective)
    chi = alignment(weights)
    result = {
        "objective": objective.name,
        "length": args.length,
        "weights": weights.tolist(),
        "chi": chi if math.isfinite(chi) else None,
        "uncovered": [l for l in range(1, args.length) if weights[l - 1] == 0],
    }
    if args.source:
        from theory.presets import resolve_source

        report = generation_report(resolve_source(args.source), objective, fallback=args.fallback)
        result.update(
            {
                "fallback": args.fallback,
                "bayes_loss": report.bayes_loss.tolist(),
                "excess": report.excess.tolist(),
                "total_excess": report.total_excess,
            }
        )
    if args.json:
        return _dump(result)
    rows = {k: v for k, v in result.items() if k not in ("objective", "length")}
    rows["chi"] = "inf (a tested length is uncovered)" if result["chi"] is None else result["chi"]
    return _table(
        f"coverage of {objective.name} at T={args.length} (test length uniform on 1..T-1)", rows
    )


def _check(args: argparse.Namespace) -> str:
    from simulations.claims import DEFAULT_SOURCES, check_claims, summarize

    sources = tuple(args.sources) if args.sources else DEFAULT_SOURCES
    rows = check_claims(
        sources,
        k=args.k,
        seed=args.seed,
        n_train=args.n_train,
        n_eval=args.n_eval,
        progress=not args.json and sys.stderr.isatty(),
    )
    summary = summarize(rows)
    if args.json:
        settings = {
            "sources": list(sources),
            "k": args.k,
            "seed": args.seed,
            "n_train": args.n_train,
            "n_eval": args.n_eval,
        }
        return _dump(
            {"settings": settings, "claims": [r.to_dict() for r in rows], "summary": summary}
        )
    lines = [
        f"claim table: k={args.k} seed={args.seed} N_train={args.n_train} N_eval={args.n_eval}"
    ]
    for row in rows:
        shown = "  ".join(f"{name}={_fmt(value)}" for name, value in row.values.items())
        lines.append(
            f"{row.claim}  {row.source:<11} {row.verdict:<5}  {row.metric:<52} {shown}  "
            f"[{row.winner} {row.better}; tol {row.tolerance:g}]  {row.detail}"
        )
    lines.append("")
    lines.append("summary (rows holding / failing / tied, per claim and source):")
    for key, counts in summary.items():
        lines.append(
            f"  {key:<16} {counts['verdict']:<6} "
            f"{counts['holds']} / {counts['fails']} / {counts['tie']}"
        )
    return "\n".join(lines)


def _simulate(args: argparse.Namespace) -> str:
    from simulations.runs import simulate
    from theory.objectives import parse_objective
    from theory.presets import resolve_source

    source = resolve_source(args.source)
    objective = parse_objective(args.objective, source.length)
    result = simulate(
        source,
        objective,
        args.model,
        args.loss,
        args.k,
        steps=args.steps,
        lr=args.lr,
        seed=args.seed,
        n_train=args.n_train,
        n_eval=args.n_eval,
    ).to_dict()
    if args.json:
        return _dump(result)
    curve = result.pop("curve")
    result["loss curve"] = curve["loss"]
    return _table(f"simulated {args.model} model, {args.loss} loss", result)


def _sweep(args: argparse.Namespace) -> str:
    from pathlib import Path

    from simulations.sweep import run_sweep

    if args.jobs < 1:
        raise InputError("--jobs must be >= 1")
    out = args.out or str(Path(args.grid).with_suffix(".jsonl"))
    counts = run_sweep(
        args.grid, out, jobs=args.jobs, scheduler=args.scheduler, progress=sys.stderr.isatty()
    )
    return (
        f"sweep: {counts['ran']} runs done, {counts['skipped']} already in {counts['out']} "
        f"({counts['configs']} in the grid)"
    )


def _figures(args: argparse.Namespace) -> str:
    import time

    from figures.render import render

    start = time.perf_counter()
    rows = render(args.out, only=args.only, fmt=args.format, progress=sys.stderr.isatty())
    lines = [f"{row['name']:<11} {row['seconds']:6.1f} s  {row['file']}" for row in rows]
    lines.append(f"{len(rows)} figures in {time.perf_counter() - start:.1f} s")
    return "\n".join(lines)


def _derive(args: argparse.Namespace) -> str:
    from theory.symbolic import DERIVATIONS, derive, render

    if args.list:
        return "\n".join(DERIVATIONS)
    if not args.name:
        raise InputError("derive needs a NAME or --list")
    return render(derive(args.name), latex=args.latex)


def _sources(args: argparse.Namespace) -> str:
    from theory.presets import PRESETS

    width = max(len(n) for n in PRESETS)
    return "\n".join(f"{name:<{width}}  {text}" for name, (text, _) in PRESETS.items())


# --------------------------------------------------------------------------- parser


def _int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    return value


def build_parser() -> _Parser:
    """The argument parser (exposed for tests and the README's command listing)."""
    parser = _Parser(
        prog="lookaround",
        description="Exact checks of 'Look Ahead or Look Around?' (AR vs masked pretraining).",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("analyze", help="spectrum, phi/alpha, probe error and the T2/T2' bounds")
    p.add_argument(
        "--source", required=True, help="a preset (see `lookaround sources`) or FILE.json"
    )
    p.add_argument(
        "--objective",
        required=True,
        help="ar, ar:last, dar:J, mlm:m, mlm:RATIO, vmlm, prefixlm, span:m, plm",
    )
    p.add_argument("--k", type=_int, required=True, help="number of spectral features")
    p.add_argument(
        "--level",
        choices=("context", "sample", "both"),
        help="default: both (context with --sampled)",
    )
    p.add_argument(
        "--max-memory", type=float, help="GB an exact request may use (default 40%% of RAM)"
    )
    p.add_argument(
        "--sampled", type=_int, metavar="N", help="estimate from N draws instead (context level)"
    )
    p.add_argument("--bootstrap", type=_int, default=200, help="bootstrap replicates for --sampled")
    p.add_argument("--seed", type=_int, default=0, help="seed for --sampled")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_analyze)

    p = sub.add_parser("coverage", help="generation coverage w(omega_l), chi and T3's excess loss")
    p.add_argument("--objective", required=True)
    p.add_argument("--length", type=_int, required=True, help="sequence length T")
    p.add_argument("--source", help="also the exact excess generation loss on this source")
    p.add_argument("--fallback", choices=("uniform", "marginal"), default="uniform")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_coverage)

    p = sub.add_parser("sources", help="list the preset sources")
    p.set_defaults(handler=_sources)

    p = sub.add_parser("check", help="the claim table C1-C4 on the default sources (the main job)")
    p.add_argument("--sources", nargs="+", help="presets or FILE.json (default: the six presets)")
    p.add_argument("--k", type=_int, default=2)
    p.add_argument("--seed", type=_int, default=0)
    p.add_argument("--n-train", type=_int, default=50_000, help="training draws per model")
    p.add_argument("--n-eval", type=_int, default=2000, help="held-out sequences")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_check)

    p = sub.add_parser(
        "simulate", help="train one model from samples and measure it against theory"
    )
    p.add_argument("--source", required=True)
    p.add_argument("--objective", required=True)
    p.add_argument("--model", choices=("tabular", "shared"), default="tabular")
    p.add_argument("--loss", choices=("spectral", "ce"), default="spectral")
    p.add_argument("--k", type=_int, default=2)
    p.add_argument("--steps", type=_int, help="optimizer steps (default: enough to converge)")
    p.add_argument("--lr", type=float, help="learning rate (default per model and loss)")
    p.add_argument("--seed", type=_int, default=0)
    p.add_argument("--n-train", type=_int, default=50_000)
    p.add_argument("--n-eval", type=_int, default=2000)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_simulate)

    p = sub.add_parser("figures", help="regenerate the paper's figures")
    p.add_argument(
        "--out", default="figures-out", help="folder for the files (default figures-out)"
    )
    p.add_argument("--only", help="one figure by name")
    p.add_argument("--format", default="png", help="png, pdf or svg")
    p.set_defaults(handler=_figures)

    p = sub.add_parser(
        "derive", help="symbolic derivations (sympy): T1, T3 closed forms, two-class"
    )
    p.add_argument("name", nargs="?", help="a derivation (see --list)")
    p.add_argument("--list", action="store_true", help="print the names, one a line")
    p.add_argument("--latex", action="store_true", help="print LaTeX")
    p.set_defaults(handler=_derive)

    p = sub.add_parser("sweep", help="run a TOML grid, resumable, one JSON line per run")
    p.add_argument("grid", help="GRID.toml")
    p.add_argument("--out", help="results file (default: GRID.jsonl beside the grid)")
    p.add_argument(
        "--jobs",
        type=_int,
        default=os.cpu_count() or 1,
        help="local worker processes (joblib; default: one per core, 1 runs in this process)",
    )
    p.add_argument("--scheduler", help="address of a dask.distributed scheduler")
    p.set_defaults(handler=_sweep)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lookaround`` console script; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        output = args.handler(args)
    except _Usage as exc:
        print(f"lookaround: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except InputError as exc:
        print(f"lookaround: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        # A path the user gave that cannot be read or written: theirs to fix, not a crash.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"lookaround: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("lookaround: interrupted", file=sys.stderr)
        return 130
    if output:
        print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
