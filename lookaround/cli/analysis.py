"""``analyze`` and ``coverage``: one source and one objective, exactly or estimated."""

from __future__ import annotations

import argparse
import math
import sys
import textwrap

from lookaround.base.errors import InputError
from lookaround.cli.arguments import (
    command,
    flags,
    integer,
    json_flag,
    objective_argument,
    seed,
    source_arguments,
)
from lookaround.cli.render import dump, table


def _analyze(args: argparse.Namespace) -> str:
    from lookaround.base.checks import check_positive
    from lookaround.theory.presets import resolve_source

    if args.sampled is None and args.bootstrap is not None:
        raise InputError("--bootstrap sets the replicates of --sampled; give --sampled N too")
    if args.sampled is not None and args.mc is not None:
        raise InputError("give --mc N (exact conditionals) or --sampled N (plug-in), not both")
    estimating = "--sampled" if args.sampled is not None else "--mc" if args.mc is not None else ""
    if args.sampled is not None and args.level not in (None, "context"):
        raise InputError(f"--sampled estimates the context level only, not --level {args.level}")
    if estimating and args.max_memory is not None:
        raise InputError(f"--max-memory sizes an exact analysis; {estimating} runs in chunks")
    if args.max_memory is not None:
        check_positive(args.max_memory, "--max-memory (GB)")
    if estimating and args.threads is not None:
        raise InputError(f"--threads budgets the exact passes; {estimating} does not take it")
    source = resolve_source(args.source)
    if args.mc is not None:
        result = _monte_carlo(args, source)
    elif args.sampled is not None:
        result = _plug_in(args, source)
    else:
        result = _exact(args, source)
    if args.json:
        return dump(result)
    head = f"source {result['source']}  objective {result['objective']}  k {result['k']}"
    parts = [head]
    for level, bound_name in (("context", "T2"), ("sample", "T2'")):
        if level in result:
            rows = dict(result[level])
            if "holds" in rows:
                rows["verdict"] = f"{bound_name} {'holds' if rows.pop('holds') else 'FAILS'}"
            if "subspace_unique" in rows:
                rows["top-k subspace"] = _subspace_note(rows)
            parts.append(table(f"{level} level", rows))
    return "\n".join(parts + _blind_note(args.objective, source.length))


def _blind_note(name: str, length: int) -> list[str]:
    """A word when no pattern shows a token (``mlm:T``): every context is the empty one."""
    from lookaround.theory.objectives import parse_objective

    if parse_objective(name, length).largest_visible() > 0:  # no table read (vmlm: 5e5)
        return []
    note = (f"note: {name} leaves nothing visible at T = {length}: every context is empty (one "
            "per masked position) and carries the class prior, so phi = 0 and the bound holds "
            "trivially; predicting x_i from nothing learns its marginal, not a representation")  # fmt: skip
    return textwrap.wrap(note, 100)


def _subspace_note(rows: dict) -> str:
    """The top-``k`` subspace line, and the mass of probe decisions rounding could not settle."""
    if not rows.pop("subspace_unique"):
        rows.pop("rounding_mass", None)
        return "AMBIGUOUS (s_k = s_(k+1)): the probe error depends on the basis"
    tied = {name: rows.pop(name) for name in ("rounding_mass", "averaged_rounding_mass")
            if name in rows}  # fmt: skip
    shown = [f"{mass:.4g} ({name.replace('_rounding_mass', ' probe').replace('rounding_mass', 'probe')})"
             for name, mass in tied.items() if mass > 0]  # fmt: skip
    if not shown:
        return "unique"
    return (
        "unique; ties at the numbers' precision (read as the smallest class) on mass "
        + ", ".join(shown)
    )


def _exact(args: argparse.Namespace, source) -> dict:
    from lookaround.theory.analysis import analyze
    from lookaround.theory.objectives import parse_objective

    objective = parse_objective(args.objective, source.length)
    max_memory = None if args.max_memory is None else int(args.max_memory * 2**30)
    return analyze(
        source,
        objective,
        args.k,
        level=args.level or "both",
        max_memory=max_memory,
        progress=sys.stderr.isatty(),
        threads=args.threads,
    ).to_dict()


def _plug_in(args: argparse.Namespace, source) -> dict:
    from lookaround.theory.estimates import estimate_context
    from lookaround.theory.objectives import parse_objective

    objective = parse_objective(args.objective, source.length)
    with flags(n="--sampled"):
        estimate = estimate_context(
            source,
            objective,
            args.k,
            args.sampled,
            seed=args.seed,
            bootstrap=200 if args.bootstrap is None else args.bootstrap,
        )
    record = {"source": source.name, "objective": objective.name, "k": args.k}
    return {**record, "context": estimate.to_dict()}


def _monte_carlo(args: argparse.Namespace, source) -> dict:
    from lookaround.theory.montecarlo import monte_carlo

    levels = {None: ("context",), "both": ("context", "sample")}.get(args.level, (args.level,))
    with flags(n="--mc"):
        estimates = monte_carlo(
            source,
            args.objective,
            args.k,
            args.mc,
            levels=levels,
            seed=args.seed,
            progress=sys.stderr.isatty(),
        )
    record = {"source": source.name, "objective": args.objective, "k": args.k}
    return {**record, **{level: e.to_dict() for level, e in estimates.items()}}


def _coverage(args: argparse.Namespace) -> str:
    from lookaround.theory.coverage import alignment, generation_report, prefix_weights
    from lookaround.theory.objectives import parse_objective

    if args.fallback is not None and not args.source:
        raise InputError(
            "--fallback chooses the predictor on uncovered lengths of --source; give --source too"
        )
    objective = parse_objective(args.objective, args.length)
    weights = prefix_weights(objective)
    chi = alignment(weights)
    result = {
        "objective": objective.name,
        "length": args.length,
        "weights": weights.tolist(),
        "chi": chi,
        "uncovered": [l for l in range(1, args.length) if weights[l - 1] == 0],
    }
    if args.source:
        from lookaround.theory.presets import resolve_source

        fallback = args.fallback or "uniform"
        report = generation_report(resolve_source(args.source), objective, fallback=fallback)
        result.update(
            {
                "fallback": fallback,
                "bayes_loss": report.bayes_loss.tolist(),
                "excess": report.excess.tolist(),
                "total_excess": report.total_excess,
            }
        )
    if args.json:
        return dump(result)
    rows = {k: v for k, v in result.items() if k not in ("objective", "length")}
    rows["chi"] = "inf (a tested length is uncovered)" if math.isinf(chi) else chi
    return table(
        f"coverage of {objective.name} at T={args.length} (test length uniform on 1..T-1)", rows
    )


def add_analyze(sub) -> None:
    p = command(
        sub,
        "analyze",
        "spectrum, phi/alpha, probe error and the T2/T2' bounds of one objective",
        "lookaround analyze --source markov --objective mlm:2 --k 2",
        _analyze,
    )
    source_arguments(p)
    objective_argument(p)
    p.add_argument("--k", type=integer, required=True, help="number of spectral features k >= 1")
    p.add_argument(
        "--level",
        choices=("context", "sample", "both"),
        help="which graph; unset means both (context with --mc; --sampled is context only)",
    )
    p.add_argument(
        "--max-memory",
        type=float,
        help="GB an exact request may use; unset means 40%% of RAM",
    )
    p.add_argument(
        "--threads",
        type=integer,
        help="busy threads of the exact passes; unset means the cores this process may use "
        "(BLAS runs on one; a second builds the next block when there is a core for it)",
    )
    p.add_argument(
        "--mc",
        type=integer,
        metavar="N",
        help="unbiased estimates from N draws (contexts, or sequences with --level sample) "
        "with their exact conditionals; any size of source",
    )
    p.add_argument(
        "--sampled",
        type=integer,
        metavar="N",
        help="plug-in estimates from N draws (context level; biased when contexts repeat rarely)",
    )
    p.add_argument(
        "--bootstrap", type=integer, help="bootstrap replicates of --sampled; unset means 200"
    )
    p.add_argument("--seed", type=seed, default=0, help="seed of the draws (--mc, --sampled)")
    json_flag(p)


def add_coverage(sub) -> None:
    p = command(
        sub,
        "coverage",
        "generation coverage w(omega_l), alignment chi and T3's exact excess loss",
        "lookaround coverage --objective mlm:2 --length 5 --source markov",
        _coverage,
    )
    objective_argument(p)
    p.add_argument("--length", type=integer, required=True, help="sequence length T")
    source_arguments(p, required=False)
    p.add_argument(
        "--fallback",
        choices=("uniform", "marginal"),
        help="what the predictor answers on an uncovered length (with --source); unset: uniform",
    )
    json_flag(p)
