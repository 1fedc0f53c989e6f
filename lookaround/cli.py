"""``lookaround``: the command line, a thin shell over ``theory``, ``simulations`` and ``figures``.

Each subcommand parses, calls one library function and prints. Library imports happen inside
the handlers, because they are measured to matter: ``lookaround --help`` starts in 0.2 s,
the exact theory adds 0.5 s, the simulations 2.2 s (scikit-learn), figures 0.8 s
(matplotlib) and derivations 0.6 s (sympy); each command loads only what it uses.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import re
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

from lookaround import __version__
from lookaround.allocator import keep_freed_memory
from lookaround.extras import require
from lookaround.theory.encoding import dumps, provenance
from lookaround.theory.errors import InputError
from lookaround.theory.theorems import Theorem

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERNAL",
    "EXIT_UNVERIFIED",
    "SUBCOMMANDS",
    "build_parser",
    "main",
]

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
EXIT_UNVERIFIED = 3


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        raise _Usage(f"{self.prog}: {message}")


class _Usage(Exception):
    pass


class _Unverified(Exception):
    """A certificate that does not re-verify: a result, reported with exit code 3."""


def _dump(obj: dict) -> str:
    """One JSON record: provenance first, then the result (docs/json.md)."""
    return dumps({**provenance(), **obj})


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
    from lookaround.theory.limits import check_positive
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
        return _dump(result)
    head = f"source {result['source']}  objective {result['objective']}  k {result['k']}"
    parts = [head]
    for level, bound_name in (("context", "T2"), ("sample", "T2'")):
        if level in result:
            rows = dict(result[level])
            if "holds" in rows:
                rows["verdict"] = f"{bound_name} {'holds' if rows.pop('holds') else 'FAILS'}"
            if "subspace_unique" in rows:
                rows["top-k subspace"] = _subspace_note(rows)
            parts.append(_table(f"{level} level", rows))
    return "\n".join(parts)


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
        return _dump(result)
    rows = {k: v for k, v in result.items() if k not in ("objective", "length")}
    rows["chi"] = "inf (a tested length is uncovered)" if math.isinf(chi) else chi
    return _table(
        f"coverage of {objective.name} at T={args.length} (test length uniform on 1..T-1)", rows
    )


def _check(args: argparse.Namespace) -> str:
    from lookaround.simulations.claims import DEFAULT_SOURCES
    from lookaround.simulations.robust import check_everywhere

    sources = tuple(args.sources) if args.sources else DEFAULT_SOURCES
    request = _claim_request(args, sources) if args.pretrain else None
    if request is None:
        _refuse_unused(args, "--pretrain", ("pretrain_out", "pretrain_steps", "scheduler", "repair"),
                       jobs=1, pretrain_seeds="0,1,2")  # fmt: skip
    results = _results_path(request, args.pretrain_out, "--pretrain-out") if request else None
    result = check_everywhere(
        sources,
        k=args.k,
        seed=args.seed,
        n_train=args.n_train,
        n_eval=args.n_eval,
        steps=args.steps,
        lr=args.lr,
        progress=not (args.json or args.csv) and sys.stderr.isatty(),
    )
    if args.csv:
        return _csv(result)
    done, networks = _trained_table(request, results, args) if results else ("", ())
    if args.json:
        return _dump(
            {
                "settings": {"sources": list(sources), "k": args.k, "seed": args.seed,
                             "n_train": args.n_train, "n_eval": args.n_eval},
                "robust": [row.record() for row in result.robust],
                "trained": [row.to_dict() for row in result.trained],
                **({"pretrain": [asdict(r) for r in networks]} if request else {}),
            }
        )  # fmt: skip
    lines = _check_text(args, result)
    if request:
        from lookaround.simulations.agreement import format_agreement

        seeds = ",".join(map(str, request.seeds))
        lines += ["", f"transformers at one setting (k={args.k}, m=round(0.4 T), J=2, seeds "
                  f"{seeds}; docs/theory.md §10): {done}", "", format_agreement(networks)]  # fmt: skip
    return "\n".join(lines)


def _check_text(args: argparse.Namespace, result) -> list[str]:
    """The robust table and the trained rows, as ``lookaround check`` prints them."""
    from lookaround.simulations.robust import SHORT_KEY, summary_table

    single = (
        f"k={args.k}, m=round(0.4 T), seed={args.seed}, N_train={args.n_train}, "
        f"N_eval={args.n_eval}"
    )
    lines = [
        "where the claims hold: every exact row at every admissible setting",
        "(m = 1..T-1 for mlm:m, J = 2..T-1 for dar:J, k = 1..V where the metric uses k)",
        "",
        summary_table(list(result.robust)),
        *textwrap.wrap(SHORT_KEY, 92),
    ]
    if args.detail:
        lines += ["", *(_robust_line(row) for row in result.robust)]
    lines += ["", f"trained and held-out rows, at one setting ({single}):", "",
              result.trained_summary()]  # fmt: skip
    if args.detail:
        lines += ["", *(_claim_line(row) for row in result.trained)]
    return lines


def _refuse_unused(
    args: argparse.Namespace, needs: str, names: tuple[str, ...], **defaults
) -> None:
    """Options that do nothing without ``needs`` are refused (set: not None/False, or off their
    ``defaults``), never silently ignored."""
    given = [n for n in names if getattr(args, n) not in (None, False)]
    given += [n for n, default in defaults.items() if getattr(args, n) != default]
    if given:
        flags = ", ".join("--" + n.replace("_", "-") for n in given)
        verb = "apply" if len(given) > 1 else "applies"
        raise InputError(f"{flags} only {verb} with {needs}")


def _claim_request(args: argparse.Namespace, sources: tuple[str, ...]):
    """The transformers of ``check --pretrain``, checked before any work starts."""
    _require_transformer("lookaround check --pretrain")
    from lookaround.simulations.agreement import claim_request

    if args.csv:
        raise InputError("--pretrain prints its rows in the text and --json outputs, not --csv")
    settings = (("steps", args.pretrain_steps),) if args.pretrain_steps is not None else ()
    request = claim_request(sources, k=args.k, seeds=_comma(args.pretrain_seeds, "--pretrain-seeds", _seed),
                            settings=settings)  # fmt: skip
    request.check()
    return request


def _robust_line(row) -> str:
    c = row.counts
    head = (
        f"{row.claim} {row.source:<11} {row.metric:<40} {row.winner} vs {row.other} "
        f"({row.better} wins): {row.verdict}; {c['holds']} hold, {c['fails']} fail, "
        f"{c['tie']} tie, {c['ambiguous']} ambiguous"
    )
    if row.verdict == "depends":
        head += f"; holds at {row.where('holds')}; fails at {row.where('fails')}"
        head += "; flips: " + ", ".join(row.flips)
    return head


def _claim_line(row) -> str:
    shown = "  ".join(f"{name}={_fmt(value)}" for name, value in row.values.items())
    return (
        f"{row.claim}  {row.source:<11} {row.verdict:<5}  {row.metric:<45} {shown}  "
        f"[{row.winner} {row.better}; tol {row.tolerance:g}]  {row.detail}"
    )


def _csv(result) -> str:
    """Every setting of every robust row, then the trained rows, as CSV."""

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["claim", "source", "metric", "winner", "other", "better", "setting",
                     "winner_value", "other_value", "verdict"])  # fmt: skip
    for row in result.robust:
        for entry in row.settings:
            other, winner = entry.values  # built other side first (robust._setting_verdict)
            writer.writerow([row.claim, row.source, row.metric, winner, other, row.better,
                             entry.setting.label(), repr(entry.values[winner]),
                             repr(entry.values[other]), entry.verdict])  # fmt: skip
    for row in result.trained:
        other = next(n for n in row.values if n != row.winner)
        writer.writerow([row.claim, row.source, row.metric, row.winner, other, row.better,
                         "single", repr(row.values[row.winner]), repr(row.values[other]),
                         row.verdict])  # fmt: skip
    return buffer.getvalue().rstrip("\n")


def _simulate_transformer(args: argparse.Namespace) -> str:
    """One transformer trained on fresh draws and evaluated population-exact (docs/theory.md §10)."""
    _require_transformer("lookaround simulate --model transformer")
    from lookaround.simulations.agreement import check_one, pretrain_one, record

    if args.n_train is not None or args.n_eval is not None:
        raise InputError("--model transformer draws fresh sequences every step and evaluates "
                         "every sequence exactly: --n-train and --n-eval do not apply")  # fmt: skip
    settings = {"loss": args.loss, "k": args.k}
    settings.update({n: getattr(args, n) for n in ("steps", "lr") if getattr(args, n) is not None})
    check_one(args.source, args.objective, ks=(args.k,), settings=settings)
    final, result = pretrain_one(args.source, args.objective, ks=(args.k,), seed=args.seed,
                                 settings=settings, progress=sys.stderr.isatty())  # fmt: skip
    out = {"source": args.source, "objective": args.objective, "model": "transformer",
           "seed": args.seed, **settings, "final_loss": final, **record(result)}  # fmt: skip
    if args.json:
        return _dump(out)
    shown = {k: v for k, v in out.items() if not isinstance(v, (dict, list, tuple))}
    shown["excess_per_length"] = out["excess_per_length"]
    for part in ("raw", "pooled", "spectral", *(f"t1 k={m.k}" for m in result.t1)):
        values = out[part] if part in out else asdict(result.at(int(part[5:])))
        if values:
            shown.update({f"{part} {n}": v for n, v in values.items() if n != "k"})
    return _table(f"transformer, {args.loss} loss (population-exact evaluation)", shown)


def _simulate(args: argparse.Namespace) -> str:
    from lookaround.simulations.runs import Diverged, simulate
    from lookaround.theory.objectives import parse_objective
    from lookaround.theory.presets import resolve_source

    if args.model == "transformer":
        return _simulate_transformer(args)
    source = resolve_source(args.source)
    objective = parse_objective(args.objective, source.length)
    try:
        result = simulate(
            source,
            objective,
            model=args.model,
            loss=args.loss,
            k=args.k,
            steps=args.steps,
            lr=args.lr,
            seed=args.seed,
            n_train=50_000 if args.n_train is None else args.n_train,
            n_eval=2000 if args.n_eval is None else args.n_eval,
        ).to_dict()
    except Diverged as exc:  # a result of the settings, reported as a sweep reports it
        result = {"source": source.name, "objective": objective.name, "model": args.model,
                  "loss": args.loss, "status": "diverged", "detail": str(exc)}  # fmt: skip
        return _dump(result) if args.json else _table("simulated run", result)
    if args.json:
        return _dump(result)
    curve = result.pop("curve")
    result["loss curve"] = curve["loss"]
    return _table(f"simulated {args.model} model, {args.loss} loss", result)


def _sweep(args: argparse.Namespace) -> str:

    from lookaround.simulations.sweep import run_sweep

    out = str(
        _output(args.out or str(Path(args.grid).with_suffix(".jsonl")), "--out", results=True)
    )
    counts = run_sweep(args.grid, out, jobs=args.jobs, scheduler=args.scheduler,
                       progress=sys.stderr.isatty(), repair=args.repair)  # fmt: skip
    return (
        f"sweep: {counts['ran']} runs done, {counts['skipped']} already in {counts['out']} "
        f"({counts['configs']} in the grid)" + _moved(counts)
    )


def _moved(counts: dict) -> str:
    """What a resume moved aside, said (a partial last line is an interrupted write)."""
    n = counts["quarantined"]
    if not n:
        return ""
    return f"; {n} line{'s' * (n > 1)} moved to {counts['out']}.corrupt"


def _comma(text: str, what: str, convert: Callable[[str], Any] = str) -> tuple:
    """A comma-separated list of one option, every item converted (a one-line error if not)."""
    # commas inside a family call's parentheses, 'markov2(V=6,T=8)', do not split
    items = tuple(t.strip() for t in re.split(r",(?![^()]*\))", text))
    if not all(items):
        raise InputError(f"{what} must be a comma-separated list, got {text!r}")
    try:
        return tuple(convert(t) for t in items)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        raise InputError(f"{what}: {exc}") from None


def _pretrain_request(args: argparse.Namespace):
    from lookaround.simulations.agreement import PretrainRequest

    ks = _comma(args.k, "--k", _int)
    settings = {"loss": args.loss, "k": max(ks)}
    for name in ("steps", "batch", "width", "layers", "heads", "lr"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    return PretrainRequest(
        sources=_comma(args.sources, "--sources"),
        objectives=_comma(args.objectives, "--objectives"),
        seeds=_comma(args.seeds, "--seeds", _seed),
        ks=ks,
        settings=tuple(sorted(settings.items())),
    )


def _require_transformer(what: str) -> None:
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


def _results_path(request, out: str | None, what: str) -> Path:
    """The results file of a pretraining ``request``, checked before any work."""
    from lookaround.simulations.sweep import config_hash

    return _output(out or f"pretrain-{config_hash(request.header())[:8]}.jsonl", what, results=True)


def _trained_table(request, path: Path, args: argparse.Namespace) -> tuple[str, tuple]:
    """Train (or resume) ``request`` into its results file; the file and its agreement rows."""
    from lookaround.results import read_records
    from lookaround.simulations.agreement import agreement_table
    from lookaround.simulations.sweep import run_plan

    counts = run_plan(request, str(path), jobs=args.jobs, scheduler=args.scheduler,
                      progress=sys.stderr.isatty(), repair=args.repair)  # fmt: skip
    rows = agreement_table(request, [r for r in read_records(path) if "config" in r])
    done = f"{counts['ran']} runs trained, {counts['skipped']} already in {path}" + _moved(counts)
    return done, rows


def _pretrain(args: argparse.Namespace) -> str:
    _require_transformer("lookaround pretrain")
    from lookaround.simulations.agreement import format_agreement

    request = _pretrain_request(args)
    request.check()
    done, rows = _trained_table(request, _results_path(request, args.out, "--out"), args)
    if args.json:
        return _dump({"request": request.header()["pretrain"], "rows": [asdict(r) for r in rows]})
    if args.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(asdict(rows[0])), lineterminator="\n")
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
        return buffer.getvalue().rstrip("\n")
    return f"pretrain: {done}\n" + format_agreement(rows)


def _figures(args: argparse.Namespace) -> str:

    require("matplotlib", "figures", "lookaround figures").use("Agg")  # files, not windows
    from lookaround.figures.render import render

    start = time.perf_counter()
    rows = render(args.out, only=args.only, fmt=args.format, progress=sys.stderr.isatty())
    lines = [f"{row['name']:<11} {row['seconds']:6.1f} s  {row['file']}" for row in rows]
    lines.append(f"{len(rows)} figures in {time.perf_counter() - start:.1f} s")
    return "\n".join(lines)


def _derive(args: argparse.Namespace) -> str:
    if args.list and (args.name or args.latex):
        raise InputError("derive --list takes no NAME and no --latex")
    if not args.list and not args.name:
        raise InputError("derive needs a NAME or --list")
    require("sympy", "symbolic", "lookaround derive")
    from lookaround.theory.symbolic import DERIVATIONS, derive, render

    if args.list:
        return "\n".join(DERIVATIONS)
    return render(derive(args.name), latex=args.latex)


def _sources(args: argparse.Namespace) -> str:
    from lookaround.theory.presets import PRESETS, resolve_source

    if args.show is not None:  # whatever --source accepts: a preset, NAME:SEED or a family call
        if not args.show.strip():
            raise InputError(
                "--show must name a source (a preset, NAME:SEED, a family call or FILE.json)"
            )
        return dumps(resolve_source(args.show).spec, indent=1)
    width = max(len(n) for n in PRESETS)
    return "\n".join(f"{name:<{width}}  {text}" for name, (text, _) in PRESETS.items())


DOC_PAGES = {
    "theory": "the theory for a student: definitions, theorems T1-T3', proof sketches",
    "json": "every field of every JSON output, witness and results file",
    "gallery": "the figures, each with what it shows (figures/*.png)",
    "tutorial": "the tutorial notebook's text: the analysis step by step",
    "theorems": "the theorems notebook's text: T1, T2, T3 derived on a two-class source",
    "claims_break": "where the claims break: a search, a certificate, a map",
    "pretraining": "transformers against the exact theory",
}


def _docs(args: argparse.Namespace) -> str:
    folder = Path(__file__).resolve().parent / "docs"
    if args.page is not None:
        if args.page not in DOC_PAGES:
            raise InputError(f"docs page must be one of {', '.join(DOC_PAGES)}, got {args.page!r}")
        return (folder / f"{args.page}.md").read_text(encoding="utf-8").rstrip("\n")
    width = max(map(len, DOC_PAGES))
    lines = [f"the pages shipped with lookaround {__version__}, in {folder}:"]
    lines += [f"  {name:<{width}}  {what}" for name, what in DOC_PAGES.items()]
    return "\n".join([*lines, "print one: lookaround docs PAGE"])


def _families(args: argparse.Namespace) -> str:
    from lookaround.theory.families import FAMILIES

    return "\n".join(family.describe() for family in FAMILIES.values())


def _output(text: str, what: str, suffixes: tuple[str, ...] = (), *, results: bool = False) -> Path:
    """An output path checked before any work: its folder exists, it is no folder itself, its
    suffix (any case) is one of ``suffixes`` when they are given, and it is no device, pipe,
    nor (unless it is the command's own ``results`` file) another command's results file or a
    file being written."""
    from lookaround.simulations.journal import check_output_file

    if not text.strip():
        raise InputError(f"{what} must name a file, got {text!r}")
    path = Path(text)
    if not path.parent.is_dir():
        raise InputError(f"{what} {text!r}: the folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise InputError(f"{what} {text!r} is a folder, not a file")
    if suffixes and path.suffix.lower() not in suffixes:
        raise InputError(f"{what} {text!r} must end in {', '.join(suffixes)}")
    check_output_file(path, what, results=results)
    return path


def _map(args: argparse.Namespace) -> str:

    from lookaround.simulations.journal import check_distinct
    from lookaround.simulations.maps import plan_map
    from lookaround.simulations.sweep import run_plan

    request = plan_map(args.family, x=args.x, y=args.y, claim=args.claim, metric=args.metric,
                       k=args.k, objectives=args.objectives)  # fmt: skip
    if sys.stderr.isatty():
        print(f"map: modelled at {_duration(request.seconds)} on one thread", file=sys.stderr)
    default = f"map-{request.family}-{request.claim}-{request.metric}.jsonl"
    out = _output(args.out or default, "--out", results=True)
    plot = None
    if args.plot is not None:
        plot = _output(args.plot, "--plot", (".png", ".pdf", ".svg"))
        check_distinct({"--out": out, "--plot": plot})
        require("matplotlib", "figures", "lookaround map --plot").use("Agg")
    counts = run_plan(request, str(out), jobs=args.jobs, scheduler=args.scheduler,
                      progress=sys.stderr.isatty(), repair=args.repair)  # fmt: skip
    from lookaround.results import read_records

    rows = read_records(out)
    tally = {
        v: sum(r["verdict"] == v for r in rows) for v in ("holds", "fails", "tie", "ambiguous")
    }
    lines = [
        f"map: {counts['ran']} points computed, {counts['skipped']} already in {out} "
        f"({counts['configs']} in the grid)" + _moved(counts),
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


def _duration(seconds: float) -> str:
    """``12 s``, ``3.4 min`` or ``1.5 h``."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def _search(args: argparse.Namespace) -> str:
    require("sympy", "symbolic", "lookaround search")

    from lookaround.simulations.search import (
        MAX_EVALUATIONS,
        search_witness,
        space_of,
        stress_theorem,
    )
    from lookaround.theory.limits import check_count

    check_count(args.evaluations, "--evaluations", 1, MAX_EVALUATIONS)
    if args.budget is not None and not 0 < args.budget < math.inf:
        raise InputError(f"--budget must be a finite number of seconds > 0, got {args.budget}")
    if args.theorem and (args.claim or args.metric or args.holds):
        raise InputError("--theorem stresses a bound; it takes no --claim, --metric or --holds")
    budget = {"evaluations": args.evaluations, "seconds": args.budget}
    space = space_of(args.family, args.shape, degenerate=args.allow_degenerate)
    out = _output(args.out or ("stress.json" if args.theorem else "witness.json"), "--out")
    if args.theorem:
        result = stress_theorem(args.theorem, space, args.objective or "mlm:0.4", k=args.k,
                                seed=args.seed, **budget)  # fmt: skip
        out.write_text(_dump(result.record()) + "\n")
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
    out.write_text(_dump(witness.record()) + "\n")
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

    from lookaround.simulations.verify import verify_record
    from lookaround.theory.files import read_json

    record = read_json(Path(args.witness), "witness file")
    problems = verify_record(record)
    if problems:
        raise _Unverified(f"{args.witness} does NOT verify: " + "; ".join(problems))
    c = record["certificate"]
    return (
        f"verified: {record['claim']} {c['verdict']} on {record['metric']} (k={record['k']}), "
        f"margin {c['margin'][:20]}, recomputed exactly from {args.witness}"
    )


# --------------------------------------------------------------------------- parser


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Help that shows every real default and keeps the example epilogs as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        hidden = action.default is None or action.default is False
        if not hidden and action.default != argparse.SUPPRESS and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def _int(text: str) -> int:
    from lookaround.theory.numerics import parse_integer

    try:
        return parse_integer(text.strip(), "the value")
    except InputError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text[:40]!r}") from None


def _real(text: str) -> float:
    from lookaround.theory.numerics import parse_real

    try:
        return parse_real(text.strip(), "the value")
    except InputError:
        raise argparse.ArgumentTypeError(f"expected a decimal number, got {text[:40]!r}") from None


def _seed(text: str) -> int:
    from lookaround.theory.limits import check_seed

    try:
        return check_seed(_int(text), "a seed")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _command(sub, name: str, summary: str, example: str, handler) -> _Parser:
    """A subcommand with its one-line summary, a description and a runnable example."""
    p = sub.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=f"example:\n  {example}",
        formatter_class=_Formatter,
    )
    p.set_defaults(handler=handler)
    return p


def _source_arguments(p: _Parser, required: bool = True) -> None:
    p.add_argument(
        "--source",
        required=required,
        help="a preset NAME or NAME:SEED (see `lookaround sources`) or a FILE.json",
    )


def _objective_argument(p: _Parser) -> None:
    p.add_argument(
        "--objective",
        required=True,
        help="ar, ar:last, dar:J, mlm:m, mlm:RATIO, vmlm, vmlm:LO-HI, prefixlm, span:m, plm",
    )


def _json_flag(p: _Parser, csv: str | None = None) -> None:
    """``--json``, and ``--csv`` (printing ``csv``) exclusive with it when given."""
    if csv is None:
        p.add_argument("--json", action="store_true", help="print one JSON record (docs/json.md)")
        return
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON record (docs/json.md)")
    output.add_argument("--csv", action="store_true", help=f"print {csv} as CSV")


def _engine_arguments(p: _Parser, jobs: int, what: str = "local worker processes") -> None:
    """``--jobs``, ``--scheduler`` and ``--repair`` of a command run on the sweep engine."""
    p.add_argument("--jobs", type=_int, default=jobs, help=what)
    p.add_argument("--scheduler", help="address of a dask.distributed scheduler")
    p.add_argument(
        "--repair",
        action="store_true",
        help="move corrupt lines of the results file to FILE.corrupt and go on",
    )


def _add_analyze(sub) -> None:
    p = _command(
        sub,
        "analyze",
        "spectrum, phi/alpha, probe error and the T2/T2' bounds of one objective",
        "lookaround analyze --source markov --objective mlm:2 --k 2",
        _analyze,
    )
    _source_arguments(p)
    _objective_argument(p)
    p.add_argument("--k", type=_int, required=True, help="number of spectral features k >= 1")
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
        type=_int,
        help="busy threads of the exact passes; unset means the cores this process may use "
        "(BLAS runs on one; a second builds the next block when there is a core for it)",
    )
    p.add_argument(
        "--mc",
        type=_int,
        metavar="N",
        help="unbiased estimates from N draws (contexts, or sequences with --level sample) "
        "with their exact conditionals; any size of source",
    )
    p.add_argument(
        "--sampled",
        type=_int,
        metavar="N",
        help="plug-in estimates from N draws (context level; biased when contexts repeat rarely)",
    )
    p.add_argument(
        "--bootstrap", type=_int, help="bootstrap replicates of --sampled; unset means 200"
    )
    p.add_argument("--seed", type=_seed, default=0, help="seed of the draws (--mc, --sampled)")
    _json_flag(p)


def _add_coverage(sub) -> None:
    p = _command(
        sub,
        "coverage",
        "generation coverage w(omega_l), alignment chi and T3's exact excess loss",
        "lookaround coverage --objective mlm:2 --length 5 --source markov",
        _coverage,
    )
    _objective_argument(p)
    p.add_argument("--length", type=_int, required=True, help="sequence length T")
    _source_arguments(p, required=False)
    p.add_argument(
        "--fallback",
        choices=("uniform", "marginal"),
        help="what the predictor answers on an uncovered length (with --source); unset: uniform",
    )
    _json_flag(p)


def _add_sources(sub) -> None:
    p = _command(
        sub,
        "sources",
        "list the preset sources, or print one as a source file",
        "lookaround sources --show markov > markov.json",
        _sources,
    )
    p.add_argument("--show", metavar="NAME",
                   help="print this source as JSON: a preset (NAME or NAME:SEED) or a family "
                        "call such as 'markov2(stick=0.8)'")  # fmt: skip


def _add_check(sub) -> None:
    p = _command(
        sub,
        "check",
        "the claim table C1-C4 on the default sources (the main job)",
        "lookaround check --sources markov hmm --k 3",
        _check,
    )
    p.add_argument(
        "--sources", nargs="+", help="presets or FILE.json; unset means the six default presets"
    )
    p.add_argument("--k", type=_int, default=2, help="number of spectral features")
    p.add_argument("--seed", type=_seed, default=0, help="seed of every draw and initialization")
    p.add_argument("--n-train", type=_int, default=50_000, help="training draws per model")
    p.add_argument("--n-eval", type=_int, default=2000, help="held-out sequences")
    p.add_argument("--steps", type=_int,
                   help="training steps of every trained row's model; unset means each model's "
                        "default (C1's exact row trains 3x)")  # fmt: skip
    p.add_argument("--lr", type=_real, help="learning rate of every trained row's model; unset "
                   "means each model's default")  # fmt: skip
    p.add_argument("--detail", action="store_true", help="print every row, with its flip points")
    p.add_argument(
        "--pretrain",
        action="store_true",
        help="add transformers' verdicts on C2-C4 at one setting (extra: transformer)",
    )
    p.add_argument("--pretrain-seeds", default="0,1,2", help="seeds of --pretrain (paired)")
    p.add_argument("--pretrain-steps", type=_int, help="training steps of --pretrain (3000)")
    p.add_argument("--pretrain-out", help="results file of --pretrain (resumable)")
    _engine_arguments(p, 1, "local processes of --pretrain, one thread each")
    _json_flag(p, csv="every setting")


def _add_simulate(sub) -> None:
    p = _command(
        sub,
        "simulate",
        "train one model from samples and measure it against the theory",
        "lookaround simulate --source hmm --objective ar --model tabular --loss spectral",
        _simulate,
    )
    _source_arguments(p)
    _objective_argument(p)
    p.add_argument(
        "--model",
        default="tabular",
        help="tabular, shared or transformer (extra: transformer; default: tabular)",
    )
    p.add_argument("--loss", default="spectral", help="spectral or ce (default: spectral)")
    p.add_argument("--k", type=_int, default=2, help="feature dimension")
    p.add_argument("--steps", type=_int, help="optimizer steps; unset means the model's default")
    p.add_argument("--lr", type=_real, help="learning rate; unset means the model's default")
    p.add_argument("--seed", type=_seed, default=0, help="seed of draws and initialization")
    p.add_argument("--n-train", type=_int, help="training draws (default 50000; not transformer)")
    p.add_argument("--n-eval", type=_int, help="held-out sequences (default 2000; not transformer)")
    _json_flag(p)


def _add_pretrain(sub) -> None:
    p = _command(
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
    p.add_argument("--steps", type=_int, help="optimizer steps (default 3000)")
    p.add_argument("--batch", type=_int, help="sequences per step (default 256)")
    p.add_argument("--width", type=_int, help="model dimension (default 32)")
    p.add_argument("--layers", type=_int, help="transformer blocks (default 2)")
    p.add_argument("--heads", type=_int, help="attention heads (default 2)")
    p.add_argument("--lr", type=_real, help="peak learning rate (default 3e-3)")
    p.add_argument("--out", help="results file (resumable); unset means pretrain-HASH.jsonl")
    _engine_arguments(p, 1, "local processes, one thread each")
    _json_flag(p, csv="the table")


def _add_figures(sub) -> None:
    p = _command(
        sub,
        "figures",
        "regenerate the paper's figures (needs the figures extra)",
        "lookaround figures --only generation --format pdf --out figs",
        _figures,
    )
    p.add_argument("--out", default="figures-out", help="folder for the files")
    p.add_argument("--only", help="one figure by name; unset means all")
    p.add_argument("--format", default="png", help="png, pdf or svg")


def _add_derive(sub) -> None:
    p = _command(
        sub,
        "derive",
        "symbolic derivations with sympy: T1, T3 closed forms, two-class spectrum",
        "lookaround derive coverage --latex",
        _derive,
    )
    p.add_argument("name", nargs="?", help="a derivation (see --list)")
    p.add_argument("--list", action="store_true", help="print the names, one a line")
    p.add_argument("--latex", action="store_true", help="print LaTeX")


def _add_sweep(sub) -> None:
    p = _command(
        sub,
        "sweep",
        "run a TOML grid, resumable, one JSON line per run",
        "lookaround sweep grid.toml --out results.jsonl --jobs 2",
        _sweep,
    )
    p.add_argument("grid", help="GRID.toml")
    p.add_argument("--out", help="results file; unset means GRID.jsonl beside the grid")
    _engine_arguments(p, os.cpu_count() or 1, "local worker processes (joblib); 1 runs here")


def _add_docs(sub) -> None:
    p = _command(sub, "docs", "where the documentation pages are installed, or print one",
                 "lookaround docs theory", _docs)  # fmt: skip
    p.add_argument("page", nargs="?", help=f"one of {', '.join(DOC_PAGES)}")


def _add_families(sub) -> None:
    _command(
        sub,
        "families",
        "list the parametric source families with their parameters and ranges",
        "lookaround analyze --source 'markov2(stick=0.8,overlap=0.1)' --objective ar --k 1",
        _families,
    )


def _add_map(sub) -> None:
    p = _command(
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
    p.add_argument("--claim", required=True, help="C2, C3 or C4")
    p.add_argument(
        "--metric", required=True, help="a metric key: s_k1, phi, t2p_bound, ari, chi, ..."
    )
    p.add_argument("--k", default="2", help="features k, or 'all' (the smallest decided margin)")
    p.add_argument("--objectives", help="A,B: the paper's side and the other (default per claim)")
    p.add_argument("--out", help="results file; unset means map-FAMILY-CLAIM-METRIC.jsonl")
    p.add_argument("--plot", help="also draw the map to this file (.png, .pdf or .svg)")
    _engine_arguments(p, os.cpu_count() or 1, "local processes")


def _add_search(sub) -> None:
    p = _command(
        sub,
        "search",
        "find a source where a claim fails (or holds) by the widest margin, with a certificate",
        "lookaround search --claim C2 --metric s_k1 --family markov2 --seed 0 --evaluations 1000",
        _search,
    )
    p.add_argument("--claim", help="C2, C3 or C4")
    p.add_argument(
        "--metric", help="a certifiable metric: s_k1, lambda_k1, phi, alpha, t2_bound, chi"
    )
    p.add_argument("--family", help="search a family's real knobs: markov2 or 'markov2(V=3,T=5)'")
    p.add_argument("--shape", help="search class-conditional Markov chains of shape r,V,T")
    p.add_argument("--allow-degenerate", action="store_true",
                   help="let a --shape search reach class priors below 0.1 and other "
                        "probabilities below 0.01 (deterministic tokens, vanishing classes)")  # fmt: skip
    p.add_argument("--k", type=_int, default=1, help="features k")
    p.add_argument("--objectives", help="A,B: the paper's side and the other (default per claim)")
    p.add_argument("--holds", action="store_true", help="look for a source where the claim holds")
    p.add_argument("--theorem", choices=[str(t) for t in Theorem],
                   help="stress a theorem instead: T2, T2' (bounds) or T3' (rate)")  # fmt: skip
    p.add_argument("--objective", help="the objective of --theorem (default mlm:0.4)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the restarts")
    p.add_argument(
        "--evaluations",
        type=_int,
        default=1000,
        help="exact margins evaluated: the budget, the same on any machine",
    )
    p.add_argument(
        "--budget",
        type=float,
        help="an optional cap in seconds (a run it stops is not reproducible)",
    )
    p.add_argument("--out", help="witness file; unset means witness.json (stress.json)")


def _add_verify(sub) -> None:
    p = _command(
        sub,
        "verify",
        "recompute a witness's certificate exactly from its JSON (exit 3 if it does not verify)",
        "lookaround verify witness.json",
        _verify,
    )
    p.add_argument("witness", help="WITNESS.json written by `lookaround search`")


SUBCOMMANDS = (
    _add_analyze,
    _add_coverage,
    _add_sources,
    _add_families,
    _add_check,
    _add_map,
    _add_search,
    _add_verify,
    _add_simulate,
    _add_pretrain,
    _add_figures,
    _add_derive,
    _add_sweep,
    _add_docs,
)


def build_parser() -> _Parser:
    """The argument parser (exposed for tests and the README's command listing)."""
    parser = _Parser(
        prog="lookaround",
        description="Exact checks of 'Look Ahead or Look Around?' (AR vs masked pretraining).",
        epilog="the theory, every JSON field, the figures: `lookaround docs` (shipped pages)",
    )
    parser.add_argument("--version", action="version", version=f"lookaround {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an internal error"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def _one_line(exc: BaseException) -> str:
    """The message with every unprintable character escaped: a field name or value taken from
    the user's input (a key with a carriage return) must not break the one line."""
    text = str(exc)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _run(argv: Sequence[str] | None, debug: bool) -> int:
    try:
        args = build_parser().parse_args(argv)
        output = args.handler(args)
        if output:
            print(output)
    except (_Usage, InputError) as exc:
        print(f"lookaround: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except _Unverified as exc:
        print(f"lookaround: {_one_line(exc)}", file=sys.stderr)
        return EXIT_UNVERIFIED
    except BrokenPipeError:
        raise  # handled in main, where stdout can be retired
    except OSError as exc:
        # A path the user gave that cannot be read or written: theirs to fix, not a crash.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"lookaround: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("lookaround: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            raise
        print(
            f"lookaround: internal error: {type(exc).__name__}: {exc} "
            "(rerun with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lookaround`` console script; returns the exit code."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # a Ctrl-C before or after the command's own handler
        print("lookaround: interrupted", file=sys.stderr)
        return 130


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _thread_variables() -> str | None:
    """The first thread-count variable that is not a positive integer, said; checked before
    any numeric library loads (OpenMP would print its own complaint and go on)."""
    for name in THREAD_VARIABLES:
        value = os.environ.get(name)
        if value is not None and not re.fullmatch(
            r"[1-9][0-9]{0,5}(,[1-9][0-9]{0,5})*", value.strip()
        ):
            return (f"environment variable {name} must be a positive integer (or a comma list "
                    f"of them), got {value[:40]!r}")  # fmt: skip
    return None


def _main(argv: Sequence[str] | None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    if sys.stdout is None:  # started with stdout closed (`lookaround families >&-`)
        print("lookaround: error: standard output is closed", file=sys.stderr)
        return EXIT_BAD_INPUT
    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show a character gets \\uXXXX
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    bad = _thread_variables()
    if bad:
        print(f"lookaround: error: {bad}", file=sys.stderr)
        return EXIT_BAD_INPUT
    keep_freed_memory()  # about a fifth of a streamed analysis's time, see lookaround.allocator
    try:
        code = _run(arguments, debug="--debug" in arguments)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (``| head``) left: not an error. Point stdout at devnull so the
        # interpreter's own flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
