"""The README's set-up commands are the ones CI runs, and its Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
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
