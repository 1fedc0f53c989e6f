"""``check`` and ``simulate``: the paper's claims on sources, and one simulated pretraining."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from lookaround.base.errors import InputError
from lookaround.cli.arguments import (
    comma,
    command,
    engine_arguments,
    integer,
    json_flag,
    objective_argument,
    real,
    seed,
    source_arguments,
)
from lookaround.cli.pretraining import require_transformer, results_path, trained_table
from lookaround.cli.render import dump, table


def _check(args: argparse.Namespace) -> str:
    from lookaround.simulations.claims import DEFAULT_SOURCES
    from lookaround.simulations.robust import check

    sources = tuple(args.sources) if args.sources else DEFAULT_SOURCES
    request = _claim_request(args, sources) if args.pretrain else None
    if request is None:
        refuse_unused(args, "--pretrain", ("pretrain_out", "pretrain_steps", "scheduler", "repair"),
                       jobs=1, pretrain_seeds="0,1,2")  # fmt: skip
    results = results_path(request, args.pretrain_out, "--pretrain-out") if request else None
    result = check(
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
        return result.to_csv()
    table = trained_table(request, results, args) if results else None
    done, networks = (table.done(), table.rows) if table else ("", ())
    if args.json:
        pretrain = {"pretrain": [asdict(r) for r in networks]} if request else {}
        return dump({**result.record(), **pretrain})
    lines = [result.summary(detail=args.detail)]
    if request:
        from lookaround.simulations.verdicts import format_agreement

        seeds = ",".join(map(str, request.seeds))
        lines += ["", f"transformers at one setting (k={args.k}, m=round(0.4 T), J=2, seeds "
                  f"{seeds}; docs/theory.md §10): {done}", "", format_agreement(networks)]  # fmt: skip
    return "\n".join(lines)


def refuse_unused(args: argparse.Namespace, needs: str, names: tuple[str, ...], **defaults) -> None:
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
    require_transformer("lookaround check --pretrain")
    from lookaround.simulations.agreement import claim_request

    if args.csv:
        raise InputError("--pretrain prints its rows in the text and --json outputs, not --csv")
    settings = (("steps", args.pretrain_steps),) if args.pretrain_steps is not None else ()
    request = claim_request(sources, k=args.k, seeds=comma(args.pretrain_seeds, "--pretrain-seeds", seed),
                            settings=settings)  # fmt: skip
    request.check()
    return request


def _simulate_transformer(args: argparse.Namespace) -> str:
    """One transformer trained on fresh draws and evaluated population-exact (docs/theory.md §10)."""
    require_transformer("lookaround simulate --model transformer")
    from lookaround.simulations.agreement import check_one, pretrain_one
    from lookaround.simulations.records import record

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
        return dump(out)
    shown = {k: v for k, v in out.items() if not isinstance(v, (dict, list, tuple))}
    shown["excess_per_length"] = out["excess_per_length"]
    for part in ("raw", "pooled", "spectral", *(f"t1 k={m.k}" for m in result.t1)):
        values = out[part] if part in out else asdict(result.at(int(part[5:])))
        if values:
            shown.update({f"{part} {n}": v for n, v in values.items() if n != "k"})
    return table(f"transformer, {args.loss} loss (population-exact evaluation)", shown)


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
        return dump(result) if args.json else table("simulated run", result)
    if args.json:
        return dump(result)
    curve = result.pop("curve")
    result["loss curve"] = curve["loss"]
    return table(f"simulated {args.model} model, {args.loss} loss", result)


def add_check(sub) -> None:
    p = command(
        sub,
        "check",
        "the claim table C1-C4 on the default sources (the main job)",
        "lookaround check --sources markov hmm --k 3",
        _check,
    )
    p.add_argument(
        "--sources", nargs="+", help="presets or FILE.json; unset means the six default presets"
    )
    p.add_argument("--k", type=integer, default=2, help="number of spectral features")
    p.add_argument("--seed", type=seed, default=0, help="seed of every draw and initialization")
    p.add_argument("--n-train", type=integer, default=50_000, help="training draws per model")
    p.add_argument("--n-eval", type=integer, default=2000, help="held-out sequences")
    p.add_argument("--steps", type=integer,
                   help="training steps of every trained row's model; unset means each model's "
                        "default (C1's exact row trains 3x)")  # fmt: skip
    p.add_argument("--lr", type=real, help="learning rate of every trained row's model; unset "
                   "means each model's default")  # fmt: skip
    p.add_argument("--detail", action="store_true", help="print every row, with its flip points")
    p.add_argument(
        "--pretrain",
        action="store_true",
        help="add transformers' verdicts on C2-C4 at one setting (extra: transformer)",
    )
    p.add_argument("--pretrain-seeds", default="0,1,2", help="seeds of --pretrain (paired)")
    p.add_argument("--pretrain-steps", type=integer, help="training steps of --pretrain (3000)")
    p.add_argument("--pretrain-out", help="results file of --pretrain (resumable)")
    engine_arguments(p, 1, "local processes of --pretrain, one thread each")
    json_flag(p, csv="every setting")


def add_simulate(sub) -> None:
    p = command(
        sub,
        "simulate",
        "train one model from samples and measure it against the theory",
        "lookaround simulate --source hmm --objective ar --model tabular --loss spectral",
        _simulate,
    )
    source_arguments(p)
    objective_argument(p)
    p.add_argument(
        "--model",
        default="tabular",
        help="tabular, shared or transformer (extra: transformer; default: tabular)",
    )
    p.add_argument("--loss", default="spectral", help="spectral or ce (default: spectral)")
    p.add_argument("--k", type=integer, default=2, help="feature dimension")
    p.add_argument("--steps", type=integer, help="optimizer steps; unset means the model's default")
    p.add_argument("--lr", type=real, help="learning rate; unset means the model's default")
    p.add_argument("--seed", type=seed, default=0, help="seed of draws and initialization")
    p.add_argument(
        "--n-train", type=integer, help="training draws (default 50000; not transformer)"
    )
    p.add_argument(
        "--n-eval", type=integer, help="held-out sequences (default 2000; not transformer)"
    )
    json_flag(p)
