"""The process engine: a request's configurations run once each, resumably, on local
processes or a Dask cluster, one JSON line per result (grids, maps and pretraining share it).

The results file starts with a header naming the request's hash; every later line is one
run's row, written with a single ``write`` on an append-only descriptor and synced, so an
interrupted run leaves at most one partial last line. A restart drops that line, skips every
configuration already present and runs the rest: no row is lost or duplicated.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypedDict, Unpack, cast

from joblib import Parallel, delayed, parallel_config
from tqdm import tqdm

from lookaround.base.allocator import keep_freed_memory
from lookaround.base.checks import check_count
from lookaround.base.errors import InputError
from lookaround.base.extras import require
from lookaround.base.threads import budgeted
from lookaround.simulations.journal import Journal

__all__ = [
    "CONNECT_SECONDS",
    "EngineOptions",
    "MAX_JOBS",
    "Plan",
    "check_scheduler",
    "config_hash",
    "run_configs",
    "run_plan",
]


def config_hash(config: dict) -> str:
    """Stable 16-hex hash of a configuration (sorted-key JSON).

    Parameters
    ----------
    config : dict
        A JSON-able configuration.

    Returns
    -------
    str

    Examples
    --------
    >>> config_hash({"b": 1, "a": 2}) == config_hash({"a": 2, "b": 1})
    True
    """
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


MAX_JOBS = 64  # local processes; more than the machine has cores only queue


_ADDRESS = re.compile(r"(tcp://)?[A-Za-z0-9.\-]+:[0-9]{1,5}")


# Seconds to reach a scheduler and to see its first worker: a port that accepts and never
# answers, or a cluster with no worker, is refused after this instead of waiting forever.
CONNECT_SECONDS = 30.0


def check_scheduler(address: str | None) -> str | None:
    """A dask scheduler address (``tcp://host:port`` or ``host:port``), and dask installed.

    Other protocols are refused: ``tls://`` needs certificates no option here takes,
    ``ucx://`` a UCX build, ``inproc://`` a scheduler inside this very process.

    Parameters
    ----------
    address : str or None
        A dask.distributed scheduler's address (``tcp://host:port``), or None.

    Returns
    -------
    str or None
    """
    if address is None:
        return None
    if not _ADDRESS.fullmatch(address):
        raise InputError(
            f"scheduler must be a TCP address such as tcp://127.0.0.1:8786, got {address[:80]!r}",
            field="scheduler",
        )
    require("dask.distributed", "dask", "a scheduler")
    return address


def _executor(
    configs: list[dict], run: Callable[[dict], dict], jobs: int, scheduler: str | None
) -> Iterator[dict]:
    if scheduler:
        from dask.distributed import Client, as_completed  # the optional dask extra

        # one busy thread per task: a Dask worker runs as many tasks as it has threads
        alone = functools.partial(_in_worker, run)
        with _client(Client, scheduler) as client:
            for future in as_completed(client.map(alone, configs, pure=False)):
                yield future.result()
        return
    if jobs == 1:
        yield from map(run, configs)
        return
    run = functools.partial(_in_worker, run)
    # every loky worker, a replacement too, watches its parent from its start
    with warnings.catch_warnings(), parallel_config(backend="loky", initializer=_die_with_parent):
        # loky replaces a worker whose memory grew by a large exact pass and says so; the job
        # is resubmitted and nothing is lost, so the user is not told
        warnings.filterwarnings("ignore", "A worker stopped while some jobs", UserWarning)
        yield from cast(
            Iterator[dict],
            Parallel(n_jobs=jobs, return_as="generator_unordered")(
                delayed(run)(c) for c in configs
            ),
        )


def _row_valid(complete: Callable[[dict], bool] | None, row: dict) -> bool:
    """A results row the engine wrote: its hash is its configuration's, and it holds what the
    request reads back (``complete``)."""
    config = row.get("config")
    if not isinstance(config, dict) or row.get("hash") != config_hash(config):
        return False
    return complete is None or complete(row)


def _client(client_type: Callable, scheduler: str):
    """A client of ``scheduler`` with at least one worker, or a one-line refusal after
    :data:`CONNECT_SECONDS`. The connection is made in a daemon thread: a peer that accepts
    and never answers the handshake holds dask's own connect past its timeout."""
    made: dict = {}

    def connect() -> None:
        try:
            made["client"] = client_type(scheduler, timeout=CONNECT_SECONDS)
        except Exception as exc:  # reported below, in one line
            made["error"] = exc

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(CONNECT_SECONDS + 5)
    if "client" not in made:
        why = type(made["error"]).__name__ if "error" in made else "no answer"
        raise InputError(f"scheduler {scheduler}: no scheduler answered within "
                         f"{CONNECT_SECONDS:g} s ({why})", field="scheduler")  # fmt: skip
    client = made["client"]
    try:
        client.wait_for_workers(1, timeout=CONNECT_SECONDS)
    except TimeoutError:
        client.close()
        raise InputError(f"scheduler {scheduler}: no worker joined within "
                         f"{CONNECT_SECONDS:g} s; start one with dask worker {scheduler}",
                         field="scheduler") from None  # fmt: skip
    return client


def _in_worker(run: Callable[[dict], dict], config: dict) -> dict:
    """One configuration in a worker process of the engine (loky's or Dask's): one busy
    thread (BLAS held to one, no producer thread), and freed memory kept for reuse as the
    command line keeps it (lookaround.base.allocator). Dask's nanny starts workers with
    ``MALLOC_TRIM_THRESHOLD_=65536``, which made every block of a streamed pass fault its pages
    in again: the 8-configuration benchmark sweep took 145 s on two Dask workers against 46 s
    on two loky workers."""
    keep_freed_memory()
    return budgeted(run, 1, config)


_WATCHED: list[int] = []  # the parent this worker process watches, once started


def _die_with_parent() -> None:
    """Exit this worker when the process that started it dies (``kill -9`` or SIGTERM of a
    sweep left its loky workers running): a daemon thread polls the parent twice a second.
    Run by each loky worker as it starts (the executor's initializer)."""
    if _WATCHED or threading.current_thread() is not threading.main_thread():
        return
    _WATCHED.append(parent := os.getppid())

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="lookaround-parent-watch", daemon=True).start()


class EngineOptions(TypedDict, total=False):
    """The sweep engine's options (:func:`run_configs`), passed on by its callers."""

    jobs: int
    scheduler: str | None
    progress: bool
    repair: bool


class Plan(Protocol):
    """A request the sweep engine can run: what identifies it, its configurations, and the
    module-level function that computes one configuration's row."""

    def header(self) -> dict: ...
    def configs(self) -> list[dict]: ...
    @property
    def point(self) -> Callable[[dict], dict]: ...


def run_plan(plan: Plan, out: str | Path, **options: Unpack[EngineOptions]) -> dict:
    """Run (or resume) every configuration of ``plan`` into ``out``; the engine's counts
    (``options`` as in :func:`run_configs`).

    Parameters
    ----------
    plan : Plan
        The request.
    out : str or Path
        The results file.
    **options
        As in :func:`run_configs`.

    Returns
    -------
    dict
    """
    return run_configs(plan.header(), plan.configs(), plan.point, out,
                       complete=getattr(plan, "complete", None), **options)  # fmt: skip


def run_configs(
    header: dict,
    configs: list[dict],
    run: Callable[[dict], dict],
    out: str | Path,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: bool = False,
    repair: bool = False,
    complete: Callable[[dict], bool] | None = None,
) -> dict:
    """The sweep engine: ``run`` each configuration not yet in ``out``, one JSON line each.

    ``header`` (the grid, or a map's request) is hashed into the file's first line, so a
    results file is only ever resumed by the request that started it. ``run`` must be a
    module-level function (it crosses process boundaries) returning a row with ``hash``.
    The file is locked while written (the file itself, through any link): a second writer
    is refused at once. A corrupt line stops the sweep with its ``FILE:LINE``; ``repair``
    moves such lines to ``FILE.corrupt`` and keeps every good row (see
    :class:`~lookaround.simulations.journal.Journal`). A row counts as written only when its
    ``hash`` is its ``config``'s and ``complete(row)`` (when given) accepts it; any other is
    corrupt. ``jobs`` is capped by the configurations left to run.

    Parameters
    ----------
    header : dict
        The request that is hashed into the file's first line.
    configs : list of dict
        Every configuration.
    run : callable
        ``run(config) -> dict``, module-level.
    out : str or Path
        The results file.
    jobs : int
        Local processes.
    scheduler : str, optional
        A dask.distributed scheduler's address instead.
    progress : bool
        Show a progress bar.
    repair : bool
        Move corrupt lines to ``FILE.corrupt`` and go on.
    complete : callable, optional
        ``complete(row) -> bool``: whether a written row counts as done.

    Returns
    -------
    dict
        Counts of rows run, resumed and repaired.
    """
    check_scheduler(scheduler)
    check_count(jobs, "jobs", low=1, high=MAX_JOBS)
    hashes = {config_hash(c): c for c in configs}
    with Journal(out, config_hash(header), header) as journal:
        resumed = journal.resume(frozenset(hashes), repair=repair,
                                 valid=functools.partial(_row_valid, complete))  # fmt: skip
        todo = [c for h, c in hashes.items() if h not in resumed.done]
        bar = tqdm(total=len(configs), initial=len(configs) - len(todo),
                   disable=not progress, unit="run")  # fmt: skip
        for row in _executor(todo, run, min(jobs, max(len(todo), 1)), scheduler):
            journal.append(row)
            bar.update()
        bar.close()
    return {
        "configs": len(configs),
        "skipped": len(configs) - len(todo),
        "ran": len(todo),
        "out": str(out),
        "quarantined": resumed.quarantined,
    }
