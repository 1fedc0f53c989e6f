"""Library errors name the parameter a Python caller passed; the command line says the flag.

The library below the CLI never opens a message with a flag: ``estimate_context(..., n=10**10)``
reads ``n must be ...``, while ``analyze --sampled 10000000000`` reads ``--sampled must be ...``
from the same check, mapped by the error's ``field``.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re

import pytest

from lookaround import estimate_context, monte_carlo
from lookaround.base.errors import InputError
from lookaround.cli import main
from lookaround.simulations.engine import run_configs
from tests.packages import module_names

LIBRARY = ("lookaround.base", "lookaround.theory", "lookaround.simulations", "lookaround.figures")
MESSAGE_CALLS = {"InputError", "check_count", "check_seed", "check_positive", "check_draws",
                 "parse_integer", "require"}  # fmt: skip
# A flag may stand in parentheses beside what it sets ("repair=True (--repair)"), never alone;
# pip's own flags are pip's.
BESIDE = re.compile(r"\([^()]*--[a-z][^()]*\)|pip install .*")
FLAG = re.compile(r"(?<![\w-])--[a-z]")


def _strings(node: ast.AST) -> list[str]:
    """The literal text of a message argument, f-strings included (their constant parts)."""
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def _flags_in_messages(module_name: str) -> list[str]:
    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    found = []
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        name = getattr(call.func, "id", getattr(call.func, "attr", ""))
        if name not in MESSAGE_CALLS:
            continue
        for argument in [*call.args, *(k.value for k in call.keywords)]:
            text = "".join(_strings(argument))
            if FLAG.search(BESIDE.sub("", text)):
                found.append(f"{module_name}:{call.lineno}: {text[:70]!r}")
    return found


def test_no_library_message_names_a_flag_alone():
    modules = [m for m in module_names() if m.startswith(LIBRARY)]
    assert len(modules) > 60
    found = [hit for m in modules for hit in _flags_in_messages(m)]
    assert not found, found


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda: estimate_context("topic", "ar", 1, 10**10), "n"),
        (lambda: estimate_context("topic", "ar", 1, 100, bootstrap=1), "bootstrap"),
        (lambda: estimate_context("topic", "ar", 1, 100, seed=-1), "seed"),
        (lambda: monte_carlo("topic", "ar", 1, 1), "n"),
        (lambda: monte_carlo("topic", "ar", 1, 100, seed=2**64), "seed"),
        (lambda: run_configs({}, [], dict, "unused.jsonl", jobs=0), "jobs"),
    ],
)
def test_a_python_caller_reads_the_parameter_it_passed(call, field):
    with pytest.raises(InputError) as caught:
        call()
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field} must be"), str(caught.value)


@pytest.mark.parametrize(
    "argv, opening",
    [
        (["--sampled", "10000000000"], "--sampled must be an integer"),
        (["--mc", "1"], "--mc must be an integer"),
        (["--sampled", "100", "--bootstrap", "1"], "--bootstrap must be an integer"),
    ],
)
def test_the_command_line_says_the_flag_that_set_it(capsys, argv, opening):
    code = main(["analyze", "--source", "topic", "--objective", "ar", "--k", "1", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"lookaround: error: {opening}"), err
