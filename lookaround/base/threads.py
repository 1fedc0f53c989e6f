"""How many threads the exact passes may keep busy, decided in one place.

A process gets a *thread budget*: the cores it may run on (its CPU affinity), ``--threads N``,
or its share when it is one of several workers (``sweep``, ``map`` and ``pretrain`` give each
worker one). Inside :func:`thread_budget`:

- BLAS runs on **one** thread. Measured on 2 cores (issue 21): one ``analyze`` with BLAS on
  one thread is no slower than with BLAS on both, while two processes with BLAS on every core
  ran five to six times slower than the same two held to one. One thread also makes every
  number the same to the bit whatever the budget or the number of workers.
- a streamed pass builds its next block on a second thread only when the budget has a core
  for it (:func:`producer_allowed`).

The BLAS limit is a ``threadpoolctl`` context, restored when the enclosed call returns or
raises, so nothing is left behind when a pass is abandoned.

Examples
--------
>>> with thread_budget(1) as n:
...     n, producer_allowed()
(1, False)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from threadpoolctl import threadpool_limits

from lookaround.base.errors import InputError

__all__ = [
    "ENVIRONMENT",
    "available_cores",
    "budgeted",
    "current_budget",
    "producer_allowed",
    "thread_budget",
]

ENVIRONMENT = "LOOKAROUND_THREADS"  # a worker's budget, inherited from the process that started it
_BUDGET: ContextVar[int | None] = ContextVar("lookaround_thread_budget", default=None)


def available_cores() -> int:
    """The cores this process may run on (its affinity where the system reports one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _check(threads: Any, what: str) -> int:
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError(f"{what} must be an integer >= 1, got {threads!r}")
    return threads


def current_budget() -> int:
    """The budget in force: the innermost :func:`thread_budget`, else ``LOOKAROUND_THREADS``,
    else :func:`available_cores`."""
    inner = _BUDGET.get()
    if inner is not None:
        return inner
    text = os.environ.get(ENVIRONMENT)
    if text:
        try:
            return _check(int(text), ENVIRONMENT)
        except ValueError:
            raise InputError(f"{ENVIRONMENT} must be an integer >= 1, got {text!r}") from None
    return available_cores()


def producer_allowed() -> bool:
    """Whether a pass may build its next block on a second thread (a core is free for it)."""
    return current_budget() >= 2


@contextmanager
def thread_budget(threads: int | None = None) -> Iterator[int]:
    """Run the enclosed passes within ``threads`` busy threads (default: the budget in force).

    BLAS is held to one thread inside, and restored on exit whatever happens.

    Parameters
    ----------
    threads : int, optional
        The busy threads the enclosed passes may use; unset keeps the budget in force.

    Yields
    ------
    int
        The budget in force inside.
    """
    n = current_budget() if threads is None else _check(threads, "threads")
    token = _BUDGET.set(n)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield n
    finally:
        _BUDGET.reset(token)


def budgeted(run: Callable[[dict], dict], threads: int, config: dict) -> dict:
    """``run(config)`` inside a budget of ``threads``: what a parallel worker calls (module-level,
    so ``functools.partial(budgeted, run, 1)`` crosses process boundaries).

    Parameters
    ----------
    run : callable
        ``run(config) -> dict``, one unit of a parallel driver.
    threads : int
        The busy threads it may use.
    config : dict
        Its argument.

    Returns
    -------
    dict
        What ``run`` returns.
    """
    with thread_budget(threads):
        return run(config)
