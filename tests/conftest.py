"""The brute-force reference (``brute.py``) and the strategies live beside the tests; pytest's
``pythonpath`` setting makes them importable. Here: what every test worker shares."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock
from threadpoolctl import threadpool_limits

# Two workers on two cores: BLAS on more than one thread per worker oversubscribes them (the
# brute-force tests ran 8x slower so); held for the whole session of each worker.
_BLAS = threadpool_limits(1) if os.environ.get("PYTEST_XDIST_WORKER") else None


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Callable[[], dict]], dict]:
    """``shared(name, compute)``: ``compute()`` run once for all workers, its JSON result kept
    (the pattern pytest-xdist documents for expensive session fixtures)."""
    root: Path = tmp_path_factory.getbasetemp().parent

    def get(name: str, compute: Callable[[], dict]) -> dict:
        path = root / f"{name}.json"
        with FileLock(f"{path}.lock"):
            if not path.is_file():
                path.write_text(json.dumps(compute()))
            return json.loads(path.read_text())

    return get
