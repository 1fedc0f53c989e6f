"""The README's set-up commands are the ones CI runs, and its Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    found = re.search(r"```bash\n(.*?)```", text, re.S)
    assert found, "the README opens with a bash block"
    block = found.group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_readme_opens_with_the_two_setup_commands():
    main_job, tests = _setup_commands()[:2]
    assert main_job.endswith("lookaround check")
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command():
    tests = _setup_commands()[1]
    assert tests in (ROOT / ".ci" / "run").read_text()


def test_readme_python_example_runs():
    text = (ROOT / "README.md").read_text()
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        exec(compile(block, "README.md", "exec"), {})


def _console_examples() -> list[tuple[str, list[str]]]:
    """``(command, shown output lines)`` of every ``$ lookaround ...`` example."""
    text = (ROOT / "README.md").read_text()
    examples = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        lines = block.rstrip("\n").splitlines()
        examples.append((lines[0].removeprefix("$ "), lines[1:]))
    return examples


def test_readme_console_examples_print_what_they_show(capsys):
    import shlex

    from lookaround.cli import main

    examples = [e for e in _console_examples() if e[0] != "lookaround check"]
    assert len(examples) >= 2
    for command, shown in examples:
        assert main(shlex.split(command)[1:]) == 0
        printed = capsys.readouterr().out.splitlines()
        expected = [line for line in shown if line.strip() != "..."]
        assert [line for line in printed if line in expected] == expected, command


def test_readme_claim_table_is_what_check_prints():
    from lookaround.simulations.claims import DEFAULT_SOURCES
    from lookaround.simulations.robust import robust_rows, summary_table
    from lookaround.theory.presets import preset_source

    (shown,) = [s for c, s in _console_examples() if c == "lookaround check"]
    rows = [r for name in DEFAULT_SOURCES for r in robust_rows(preset_source(name))]
    assert shown[:4] == summary_table(rows).splitlines()
