"""Commands on the sweep engine and the certificates: ``sweep``, ``map``, ``search``, ``verify``."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from lookaround.base.encoding import dumps
from lookaround.base.errors import InputError
from lookaround.base.extras import require
from lookaround.cli.arguments import command, engine_arguments, integer, seed
from lookaround.cli.outputs import output
from lookaround.cli.render import dump, duration, moved
from lookaround.simulations.metrics import CERTIFIABLE_METRICS, CLAIM_KINDS, METRICS
from lookaround.theory.theorems import Theorem

CLAIMS = ", ".join(CLAIM_KINDS)


class Unverified(Exception):
    """A certificate that does not re-verify: a result, reported with exit code 3."""


def _sweep(args: argparse.Namespace) -> str:

    from lookaround.simulations.sweep import run_sweep

    out = str(output(args.out or str(Path(args.grid).with_suffix(".jsonl")), "--out", results=True))
    counts = run_sweep(args.grid, out, jobs=args.jobs, scheduler=args.scheduler,
                       progress=sys.stderr.isatty() and not args.quiet, repair=args.repair)  # fmt: skip
    return (
        f"sweep: {counts['ran']} runs done, {counts['skipped']} already in {counts['out']} "
        f"({counts['configs']} in the grid)" + moved(counts)
    )


def _map(args: argparse.Namespace) -> str:

    from lookaround.simulations.engine import run_plan
    from lookaround.simulations.journal import check_distinct
    from lookaround.simulations.maps import plan_map

    request = plan_map(args.family, x=args.x, y=args.y, claim=args.claim, metric=args.metric,
                       k=args.k, objectives=args.objectives)  # fmt: skip
    if sys.stderr.isatty():
        print(f"map: modelled at {duration(request.seconds)} on one thread", file=sys.stderr)
    default = f"map-{request.family}-{request.claim}-{request.metric}.jsonl"
    out = output(args.out or default, "--out", results=True)
    plot = None
    if args.plot is not None:
        plot = output(args.plot, "--plot", (".png", ".pdf", ".svg"))
        check_distinct({"--out": out, "--plot": plot})
        require("matplotlib", "figures", "lookaround map --plot").use("Agg")
    counts = run_plan(request, str(out), jobs=args.jobs, scheduler=args.scheduler,
                      progress=sys.stderr.isatty() and not args.quiet, repair=args.repair)  # fmt: skip
    from lookaround.base.results import read_records

    rows = read_records(out)
    tally = {
        v: sum(r["verdict"] == v for r in rows) for v in ("holds", "fails", "tie", "ambiguous")
    }
    lines = [
        f"map: {counts['ran']} points computed, {counts['skipped']} already in {out} "
        f"({counts['configs']} in the grid)" + moved(counts),
        "points: " + ", ".join(f"{n} {v}" for v, n in tally.items()),
    ]
    if rows:
        worst = min(rows, key=lambda r: r["margin"] if r["margin"] == r["margin"] else 1e300)
        lines.append(f"smallest margin {worst['margin']:.6g} at {worst['config']['knobs']}")
    if plot is not None:
        from lookaround.figures.maps import draw_map
        from lookaround.figures.style import save

        fmt = plot.suffix.lower().lstrip(".")
        path = save(draw_map(request.header(), rows), plot.with_suffix(""), fmt)
        lines.append(f"map drawn to {path}")
    return "\n".join(lines)


def _search(args: argparse.Namespace) -> str:
    require("sympy", "symbolic", "lookaround search")

    from lookaround.base.checks import check_count
    from lookaround.simulations.search import MAX_EVALUATIONS, search_witness, stress_theorem
    from lookaround.simulations.spaces import space_of

    check_count(args.evaluations, "--evaluations", low=1, high=MAX_EVALUATIONS)
    if args.budget is not None and not 0 < args.budget < math.inf:
        raise InputError(f"--budget must be a finite number of seconds > 0, got {args.budget}")
    if args.theorem and (args.claim or args.metric or args.holds):
        raise InputError("--theorem stresses a bound; it takes no --claim, --metric or --holds")
    budget = {"evaluations": args.evaluations, "seconds": args.budget}
    space = space_of(args.family, args.shape, degenerate=args.allow_degenerate)
    out = output(args.out or ("stress.json" if args.theorem else "witness.json"), "--out")
    if args.theorem:
        result = stress_theorem(args.theorem, space, args.objective or "mlm:0.4", k=args.k,
                                seed=args.seed, **budget)  # fmt: skip
        out.write_text(dump(result.record()) + "\n")
        what = " / ".join(result.theorem.parts)
        return (
            f"{result.theorem} on {space.name} under {result.objective}, k={result.k}: tightest "
            f"{what} = {result.ratio:.6g} ({result.numerator:.6g} / {result.denominator:.6g}) "
            f"after {result.restarts} restarts; written to {out}"
        )
    if args.claim is None or args.metric is None:
        raise InputError("search needs --claim and --metric (or --theorem)")
    pair = None
    if args.objectives:
        pair = tuple(p.strip() for p in args.objectives.split(","))
        if len(pair) != 2:
            raise InputError(f"--objectives must be A,B, got {args.objectives!r}")
    witness = search_witness(args.claim, args.metric, space, k=args.k, objectives=pair,
                             seed=args.seed, wanted="holds" if args.holds else "fails",
                             **budget)  # fmt: skip
    out.write_text(dump(witness.record()) + "\n")
    source_file = out.with_name(out.stem + ".source.json")
    source_file.write_text(dumps(witness.source, indent=1) + "\n")
    c = witness.certificate
    return "\n".join(
        [
            f"{args.claim} {witness.wanted} on {args.metric} (k={witness.k}): "
            f"{witness.objectives[0]} {c.winner.value[:12]} vs {witness.objectives[1]} "
            f"{c.other.value[:12]}, margin {c.margin[:14]} (proved: {c.verdict})",
            f"search: {witness.search.restarts} restarts, {witness.search.evaluations} "
            f"evaluations, {witness.search.seconds:.1f} s; shrunk to {witness.search.shrunk}; "
            f"probabilities in steps of 1/{witness.search.denominator}",
            f"witness and certificate: {out}; the source alone: {source_file}",
        ]
    )


def _verify(args: argparse.Namespace) -> str:
    require("sympy", "symbolic", "lookaround verify")

    from lookaround.base.files import read_json
    from lookaround.simulations.verify import verify_record

    record = read_json(Path(args.witness), "witness file")
    problems = verify_record(record)
    if problems:
        raise Unverified(f"{args.witness} does NOT verify: " + "; ".join(problems))
    c = record["certificate"]
    return (
        f"verified: {record['claim']} {c['verdict']} on {record['metric']} (k={record['k']}), "
        f"margin {c['margin'][:20]}, recomputed exactly from {args.witness}"
    )


def add_sweep(sub) -> None:
    p = command(
        sub,
        "sweep",
        "run a TOML grid, resumable, one JSON line per run",
        "lookaround sweep grid.toml --out results.jsonl --jobs 2",
        _sweep,
    )
    p.add_argument("grid", help="GRID.toml")
    p.add_argument("--out", help="results file; unset means GRID.jsonl beside the grid")
    engine_arguments(p, os.cpu_count() or 1, "local worker processes (joblib); 1 runs here")


def add_map(sub) -> None:
    p = command(
        sub,
        "map",
        "a claim's exact signed margin over a grid of a family's knobs (a phase map)",
        "lookaround map markov2 --x stick=0:1:30 --y overlap=0:0.5:30 --claim C2 --metric s_k1 "
        "--k 1 --plot map.png",
        _map,
    )
    p.add_argument("family", help="a family (see `lookaround families`), knobs may be fixed: "
                   "'markov2(V=3,T=6)'")  # fmt: skip
    p.add_argument("--x", required=True, help="PARAM=lo:hi:n, the first axis")
    p.add_argument("--y", help="PARAM=lo:hi:n, a second axis")
    p.add_argument("--claim", required=True, help=f"the claim: {CLAIMS}")
    p.add_argument("--metric", required=True, help=f"a metric key: {', '.join(METRICS)}")
    p.add_argument("--k", default="2", help="features k, or 'all' (the smallest decided margin)")
    p.add_argument("--objectives", help="A,B: the paper's side and the other (default per claim)")
    p.add_argument("--out", help="results file; unset means map-FAMILY-CLAIM-METRIC.jsonl")
    p.add_argument("--plot", help="also draw the map to this file (.png, .pdf or .svg)")
    engine_arguments(p, os.cpu_count() or 1, "local processes")


def add_search(sub) -> None:
    p = command(
        sub,
        "search",
        "find a source where a claim fails (or holds) by the widest margin, with a certificate",
        "lookaround search --claim C2 --metric s_k1 --family markov2 --seed 0 --evaluations 1000",
        _search,
    )
    p.add_argument("--claim", help=f"the claim: {CLAIMS}")
    p.add_argument("--metric", help=f"a certifiable metric: {', '.join(CERTIFIABLE_METRICS)}")
    space = p.add_mutually_exclusive_group(required=True)
    space.add_argument(
        "--family", help="search a family's real knobs: markov2 or 'markov2(V=3,T=5)'"
    )
    space.add_argument("--shape", help="search class-conditional Markov chains of shape r,V,T")
    p.add_argument("--allow-degenerate", action="store_true",
                   help="let a --shape search reach class priors below 0.1 and other "
                        "probabilities below 0.01 (deterministic tokens, vanishing classes)")  # fmt: skip
    p.add_argument("--k", type=integer, default=1, help="features k")
    p.add_argument("--objectives", help="A,B: the paper's side and the other (default per claim)")
    p.add_argument("--holds", action="store_true", help="look for a source where the claim holds")
    p.add_argument("--theorem", choices=[str(t) for t in Theorem],
                   help="stress a theorem instead: T2, T2' (bounds) or T3' (rate)")  # fmt: skip
    p.add_argument("--objective", help="the objective of --theorem (default mlm:0.4)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the restarts")
    p.add_argument(
        "--evaluations",
        type=integer,
        default=1000,
        help="exact margins evaluated: the budget, the same on any machine",
    )
    p.add_argument(
        "--budget",
        type=float,
        help="an optional cap in seconds (a run it stops is not reproducible)",
    )
    p.add_argument("--out", help="witness file; unset means witness.json (stress.json)")


def add_verify(sub) -> None:
    p = command(
        sub,
        "verify",
        "recompute a witness's certificate exactly from its JSON (exit 3 if it does not verify)",
        "lookaround verify witness.json",
        _verify,
    )
    p.add_argument("witness", help="WITNESS.json written by `lookaround search`")
