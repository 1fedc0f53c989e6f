"""``lookaround.pretrain``: a pretraining request run (or resumed) into its results file, as a
table of agreement rows; what ``lookaround pretrain`` prints is this table's ``summary()``."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from lookaround.base.reprs import Presented, short_repr
from lookaround.base.results import read_records
from lookaround.simulations.agreement import (
    DEFAULT_OBJECTIVES,
    DEFAULT_SOURCES,
    PretrainRequest,
)
from lookaround.simulations.belief_rows import BeliefRow, belief_table, format_beliefs
from lookaround.simulations.engine import config_hash, run_plan
from lookaround.simulations.evaluations import EVALUATION_SEQUENCES
from lookaround.simulations.verdicts import AgreementRow, agreement_table, format_agreement
from lookaround.theory.presets import resolve_source

__all__ = ["PretrainTable", "announcement", "default_results_path", "pretrain", "run_request"]


@dataclass(frozen=True, eq=False)
class PretrainTable(Presented):
    """The networks' verdicts beside the exact ones, and where their runs are kept.

    Attributes
    ----------
    request : PretrainRequest
        What was trained.
    rows : tuple of AgreementRow
        One per source, comparison, metric and ``k``.
    path : Path
        The results file (rerunning the same request resumes from it).
    ran, resumed : int
        Runs trained now, and runs read back from the file.
    quarantined : int
        Lines of the file moved aside as an interrupted write (to ``path.corrupt``).
    beliefs : tuple of BeliefRow
        Each layer's belief ``R^2`` (requests with ``belief`` only).
    """

    __repr__ = short_repr

    request: PretrainRequest
    rows: tuple[AgreementRow, ...]
    path: Path
    ran: int
    resumed: int
    quarantined: int = 0
    beliefs: tuple[BeliefRow, ...] = ()

    def done(self) -> str:
        """One line: what ran, what was resumed, and where the results are."""
        moved = (f"; {self.quarantined} line{'s' * (self.quarantined > 1)} moved to "
                 f"{self.path}.corrupt" if self.quarantined else "")  # fmt: skip
        return (f"{self.ran} runs trained, {self.resumed} resumed; results in {self.path}"
                + moved)  # fmt: skip

    def summary(self) -> str:
        """The agreement table as ``lookaround pretrain`` prints it, under :meth:`done`."""
        beliefs = "\n\n" + format_beliefs(self.beliefs) if self.beliefs else ""
        single = [s.name for s in map(resolve_source, self.request.sources) if s.n_classes == 1]
        note = "".join(f"\n{name}: one class, so every classifier is right and only generation "
                       "is compared" for name in single)  # fmt: skip
        return f"pretrain: {self.done()}\n" + format_agreement(self.rows) + note + beliefs

    def _frame_rows(self) -> list[dict]:
        return [asdict(row) for row in self.rows]


def announcement(request: PretrainRequest, seconds: float, path: Path) -> str:
    """What a run says before it starts: its runs, their modelled time, its results file.

    Parameters
    ----------
    request : PretrainRequest
        What is trained.
    seconds : float
        Its modelled seconds on one process (:meth:`PretrainRequest.check`).
    path : Path
        Its results file.

    Returns
    -------
    str
    """
    minutes = f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"
    return (f"pretrain: {len(request.configs())} runs, modelled at about {minutes} on one "
            f"process; results go to {path}")  # fmt: skip


def default_results_path(request: PretrainRequest) -> Path:
    """``pretrain-HASH.jsonl`` in the working directory, keyed on what is trained.

    Parameters
    ----------
    request : PretrainRequest
        What is trained.

    Returns
    -------
    Path
    """
    return Path(f"pretrain-{config_hash(request.header())[:8]}.jsonl")


def run_request(
    request: PretrainRequest,
    path: str | Path,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: bool = False,
    repair: bool = False,
) -> PretrainTable:
    """Train (or resume) a checked ``request`` into ``path`` and read its table back.

    Parameters
    ----------
    request : PretrainRequest
        Checked (:meth:`PretrainRequest.check`).
    path : str or Path
        The results file.
    jobs : int
        Runs in parallel on this machine.
    scheduler : str, optional
        A Dask scheduler's address, instead of local processes.
    progress : bool
        A progress bar of the runs, with the time left, on stderr.
    repair : bool
        Move aside a results file's corrupt lines instead of refusing it.

    Returns
    -------
    PretrainTable
    """
    path = Path(path)
    counts = run_plan(request, str(path), jobs=jobs, scheduler=scheduler, progress=progress,
                      repair=repair)  # fmt: skip
    records = [r for r in read_records(path) if "config" in r]
    return PretrainTable(request, agreement_table(request, records), path, counts["ran"],
                         counts["skipped"], counts["quarantined"],
                         belief_table(request, records))  # fmt: skip


def pretrain(
    sources: tuple[str, ...] | str = DEFAULT_SOURCES,
    objectives: tuple[str, ...] | str = DEFAULT_OBJECTIVES,
    *,
    seeds: tuple[int, ...] = (0, 1, 2),
    ks: tuple[int, ...] = (2, 3),
    out: str | Path | None = None,
    jobs: int = 1,
    progress: bool | None = None,
    evaluation: str = "auto",
    eval_sequences: int = EVALUATION_SEQUENCES,
    widths: tuple[int, ...] = (),
    belief: bool = False,
    **settings: float | int | str,
) -> PretrainTable:
    """Train tiny transformers under each objective and set their verdicts beside the exact
    theory's (docs/theory.md §10): ``lookaround pretrain`` as a function (extra: transformer).

    Parameters
    ----------
    sources, objectives : tuple of str, or str
        What is trained (comma-separated in one string, as on the command line); the first
        objective is compared with each other one.
    seeds : tuple of int
        Paired across objectives.
    ks : tuple of int
        The ``k`` of T1's map.
    out : str or Path, optional
        The results file (default :func:`default_results_path`, in the working directory);
        rerunning the same request resumes from it.
    jobs : int
        Runs in parallel.
    progress : bool, optional
        A progress bar with the time left (default: when stderr is a terminal).
    evaluation : {"auto", "exact", "sampled"}
        How networks are judged.
    eval_sequences : int
        Held-out sequences of a sampled evaluation.
    widths : tuple of int
        Widths trained side by side (instead of one ``width`` setting).
    belief : bool
        Measure each network's belief geometry (docs/theory.md §10.6).
    **settings
        Training and architecture settings: ``steps``, ``batch``, ``lr``, ``loss``, ``width``,
        ``layers``, ``heads``, ``architecture``, ``bottleneck``, ...

    Returns
    -------
    PretrainTable
        ``print(table.summary())`` prints what the command line prints.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     table = pretrain("topic", "ar,mlm:1", seeds=(0, 1), ks=(2,), steps=10, batch=16,
    ...                      out=f"{tmp}/runs.jsonl")
    >>> table.ran, table.rows[0].metric
    (4, 'probe error, T1 map')
    """
    split = lambda v: tuple(v.split(",")) if isinstance(v, str) else tuple(v)  # noqa: E731
    request = PretrainRequest(
        sources=split(sources),
        objectives=split(objectives),
        seeds=tuple(seeds),
        ks=tuple(ks),
        settings=tuple(sorted({"k": max(ks), **settings}.items())),
        evaluation=evaluation,
        eval_sequences=eval_sequences,
        widths=tuple(widths),
        belief=belief,
    )
    seconds = request.check()
    path = Path(out) if out is not None else default_results_path(request)
    shown = sys.stderr.isatty() if progress is None else progress
    if shown:
        print(announcement(request, seconds, path), file=sys.stderr)
    return run_request(request, path, jobs=jobs, progress=shown)
