"""What the toolkit holds: ``sources``, ``families``, ``docs``, ``figures`` and ``derive``."""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from pathlib import Path

from lookaround.base.encoding import dumps
from lookaround.base.errors import InputError
from lookaround.base.extras import require
from lookaround.base.version import __version__
from lookaround.cli.arguments import command


def _figures(args: argparse.Namespace) -> str:

    require("matplotlib", "figures", "lookaround figures").use("Agg")  # files, not windows
    from lookaround.figures.render import render

    start = time.perf_counter()
    rows = render(args.out, only=args.only, fmt=args.format, progress=sys.stderr.isatty())
    lines = []
    for row in rows:
        lines.append(f"{row['name']:<11} {row['seconds']:6.1f} s  {row['file']}")
        lines += textwrap.wrap(row["caption"], 100, initial_indent=" " * 4,
                               subsequent_indent=" " * 4)  # fmt: skip
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
    folder = Path(__file__).resolve().parents[1] / "docs"  # lookaround/docs
    if args.page is not None:
        if args.page not in DOC_PAGES:
            raise InputError(f"docs page must be one of {', '.join(DOC_PAGES)}, got {args.page!r}")
        text = (folder / f"{args.page}.md").read_text(encoding="utf-8")
        return _without_front_matter(text).strip("\n")
    width = max(map(len, DOC_PAGES))
    lines = [f"the pages shipped with lookaround {__version__}, in {folder}:"]
    lines += [f"  {name:<{width}}  {what}" for name, what in DOC_PAGES.items()]
    return "\n".join([*lines, "print one: lookaround docs PAGE"])


def _without_front_matter(text: str) -> str:
    """A page without the jupytext header its notebook pairing puts first (``---`` ... ``---``)."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end >= 0:
            return text[end + 5 :]
    return text


def _families(args: argparse.Namespace) -> str:
    from lookaround.theory.families import FAMILIES

    return "\n".join(family.describe() for family in FAMILIES.values())


def add_sources(sub) -> None:
    p = command(
        sub,
        "sources",
        "list the preset sources, or print one as a source file",
        "lookaround sources --show markov > markov.json",
        _sources,
    )
    p.add_argument("--show", metavar="NAME",
                   help="print this source as JSON: a preset (NAME or NAME:SEED) or a family "
                        "call such as 'markov2(stick=0.8)'")  # fmt: skip


def add_figures(sub) -> None:
    p = command(
        sub,
        "figures",
        "regenerate the paper's figures (needs the figures extra)",
        "lookaround figures --only generation --format pdf --out figs",
        _figures,
    )
    p.add_argument("--out", default="figures-out", help="folder for the files")
    p.add_argument("--only", help="one figure by name; unset means all")
    p.add_argument("--format", default="png", help="png, pdf or svg")


def add_derive(sub) -> None:
    p = command(
        sub,
        "derive",
        "symbolic derivations with sympy: T1, T3 closed forms, two-class spectrum",
        "lookaround derive coverage --latex",
        _derive,
    )
    p.add_argument("name", nargs="?", help="a derivation (see --list)")
    p.add_argument("--list", action="store_true", help="print the names, one a line")
    p.add_argument("--latex", action="store_true", help="print LaTeX")


def add_docs(sub) -> None:
    p = command(sub, "docs", "where the documentation pages are installed, or print one",
                 "lookaround docs theory", _docs)  # fmt: skip
    p.add_argument("page", nargs="?", help=f"one of {', '.join(DOC_PAGES)}")


def add_families(sub) -> None:
    command(
        sub,
        "families",
        "list the parametric source families with their parameters and ranges",
        "lookaround analyze --source 'markov2(stick=0.8,overlap=0.1)' --objective ar --k 1",
        _families,
    )
