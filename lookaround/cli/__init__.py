"""``lookaround``: the command line, a thin shell over ``theory``, ``simulations`` and ``figures``.

Each subcommand parses, calls one library function and prints; its parser sits beside its
handler in the module of its family of commands (:mod:`~lookaround.cli.analysis`,
:mod:`~lookaround.cli.claims`, :mod:`~lookaround.cli.pretraining`, :mod:`~lookaround.cli.grids`,
:mod:`~lookaround.cli.pages`). This module assembles them and maps every failure to its exit
code. Library imports happen inside the handlers, because they are measured to matter:
``lookaround --help`` starts in 0.2 s, the exact theory adds 0.5 s, the simulations 2.2 s
(scikit-learn), figures 0.8 s (matplotlib) and derivations 0.6 s (sympy); each command loads
only what it uses.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Sequence

from lookaround.base.allocator import keep_freed_memory
from lookaround.base.errors import InputError
from lookaround.base.version import __version__
from lookaround.cli.analysis import add_analyze, add_coverage
from lookaround.cli.arguments import Parser, Usage
from lookaround.cli.claims import add_check, add_simulate
from lookaround.cli.grids import Unverified, add_map, add_search, add_sweep, add_verify
from lookaround.cli.pages import add_derive, add_docs, add_families, add_figures, add_sources
from lookaround.cli.pretraining import add_pretrain

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


SUBCOMMANDS = (
    add_analyze,
    add_coverage,
    add_sources,
    add_families,
    add_check,
    add_map,
    add_search,
    add_verify,
    add_simulate,
    add_pretrain,
    add_figures,
    add_derive,
    add_sweep,
    add_docs,
)


def build_parser() -> Parser:
    """The argument parser (exposed for tests and the README's command listing)."""
    parser = Parser(
        prog="lookaround",
        description="Exact checks of 'Look Ahead or Look Around?' (AR vs masked pretraining).",
        epilog="the theory, every JSON field, the figures: `lookaround docs` (shipped pages)",
    )
    parser.add_argument("--version", action="version", version=f"lookaround {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an internal error"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


FLAG_NAMES = {"fmt": "--format"}  # library parameters whose flag is not --name


def _flag(field: str) -> str:
    """The flag that sets the library parameter ``field``."""
    return FLAG_NAMES.get(field, "--" + field.replace("_", "-"))


def _one_line(exc: BaseException | str) -> str:
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
    except Usage as exc:
        print(f"lookaround: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except InputError as exc:
        flags = {} if exc.field is None else {exc.field: _flag(exc.field)}
        print(f"lookaround: error: {_one_line(exc.flagged(flags))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Unverified as exc:
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
    """Entry point of the ``lookaround`` console script; returns the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``lookaround`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code: 0; 2 for bad input; 3 for a witness that does not verify; 1 for an
        internal error; 130 when interrupted.
    """
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
    keep_freed_memory()  # about a fifth of a streamed analysis's time, see lookaround.base.allocator
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
