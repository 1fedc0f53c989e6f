"""The parser every command shares: one-line usage errors, defaults shown in help, the
converters of integers, decimals and seeds, and the arguments several commands take."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from lookaround.base.errors import InputError


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        raise Usage(f"{self.prog}: {message}")


class Usage(Exception):
    pass


@contextmanager
def flags(**names: str) -> Iterator[None]:
    """Within, a library error on a parameter in ``names`` says its flag instead: for a
    parameter set by a flag not spelled ``--<parameter>`` (``n`` of ``analyze --mc N``)."""
    try:
        yield
    except InputError as exc:
        if exc.field not in names:
            raise
        raise InputError(exc.flagged(names)) from None


def comma(text: str, what: str, convert: Callable[[str], Any] = str) -> tuple:
    """A comma-separated list of one option, every item converted (a one-line error if not)."""
    # commas inside a family call's parentheses, 'markov2(V=6,T=8)', do not split
    items = tuple(t.strip() for t in re.split(r",(?![^()]*\))", text))
    if not all(items):
        raise InputError(f"{what} must be a comma-separated list, got {text!r}")
    try:
        return tuple(convert(t) for t in items)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        raise InputError(f"{what}: {exc}") from None


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Help that shows every real default and keeps the example epilogs as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        hidden = action.default is None or action.default is False
        said = "%(default)" in text or re.search(r"\bdefault\b", text)  # written by hand
        if not hidden and action.default != argparse.SUPPRESS and not said:
            text += " (default: %(default)s)"
        return text


def integer(text: str) -> int:
    from lookaround.theory.numerics import parse_integer

    try:
        return parse_integer(text.strip(), "the value")
    except InputError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text[:40]!r}") from None


def real(text: str) -> float:
    from lookaround.theory.numerics import parse_real

    try:
        return parse_real(text.strip(), "the value")
    except InputError:
        raise argparse.ArgumentTypeError(f"expected a decimal number, got {text[:40]!r}") from None


def seed(text: str) -> int:
    from lookaround.base.checks import check_seed

    try:
        return check_seed(integer(text), "a seed")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def command(sub, name: str, summary: str, example: str, handler) -> Parser:
    """A subcommand with its one-line summary, a description and a runnable example."""
    p = sub.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=f"example:\n  {example}",
        formatter_class=Formatter,
    )
    p.set_defaults(handler=handler)
    return p


def source_arguments(p: Parser, required: bool = True) -> None:
    p.add_argument(
        "--source",
        required=required,
        help="a preset NAME or NAME:SEED (see `lookaround sources`) or a FILE.json",
    )


def objective_argument(p: Parser) -> None:
    p.add_argument(
        "--objective",
        required=True,
        help="ar, ar:last, dar:J, mlm:m, mlm:RATIO, vmlm, vmlm:LO-HI, prefixlm, span:m, plm",
    )


def json_flag(p: Parser, csv: str | None = None) -> None:
    """``--json``, and ``--csv`` (printing ``csv``) exclusive with it when given."""
    if csv is None:
        p.add_argument("--json", action="store_true", help="print one JSON record (docs/json.md)")
        return
    output = p.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON record (docs/json.md)")
    output.add_argument("--csv", action="store_true", help=f"print {csv} as CSV")


def engine_arguments(p: Parser, jobs: int, what: str = "local worker processes") -> None:
    """``--jobs``, ``--scheduler``, ``--repair`` and ``--quiet`` of a command run on the sweep
    engine."""
    p.add_argument("--jobs", type=integer, default=jobs, help=what)
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar (there is none when stderr is not a terminal)")  # fmt: skip
    p.add_argument("--scheduler", help="address of a dask.distributed scheduler")
    p.add_argument(
        "--repair",
        action="store_true",
        help="move corrupt lines of the results file to FILE.corrupt and go on",
    )
