"""The results file of a sweep, a map or a pretraining table: one JSON line per row after a
header line that hashes the request, held by one writer at a time, resumed and repaired.

The lock is the operating system's lock on the file itself (``flock``), so it is keyed on the
file, not on the name used to reach it: a second writer through a symbolic or hard link is
refused like one through the same path, and no ``FILE.lock`` is left behind. A repair rewrites
the file in place (through a link, the linked file is repaired), after writing the repaired
content to ``FILE.repair`` first: a crash in between is finished by the next run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from lookaround.base.encoding import dumps, provenance
from lookaround.base.errors import InputError
from lookaround.base.files import regular_file

try:
    import fcntl
except ImportError:  # Windows: no flock; the filelock package locks a side file instead
    fcntl = None

__all__ = ["Journal", "Resumed", "check_distinct", "check_output_file"]


@dataclass(frozen=True)
class Resumed:
    """What a results file held when it was resumed.

    Attributes
    ----------
    done : frozenset of str
        Hashes of the rows already there.
    quarantined : int
        Lines moved to ``FILE.corrupt``: corrupt lines (with ``repair``), a partial last line
        (an interrupted write; its row is computed again), rows of another request.
    header_rewritten : bool
        The header was unreadable and ``repair`` wrote it again from the request.
    """

    done: frozenset[str]
    quarantined: int
    header_rewritten: bool


class Journal:
    """A results file opened for one writer (a context manager; refused if another holds it).

    Parameters
    ----------
    out : str or Path
        The results file.
    request_hash : str
        The hash of the request that writes it.
    header : dict, optional
        The request, written on the first line of a new file.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "rows.jsonl"
    >>> with Journal(path, "abc") as journal:
    ...     resumed = journal.resume(frozenset({"h1"}), repair=False)
    ...     journal.append({"hash": "h1", "value": 1.0})
    >>> with Journal(path, "abc") as journal:
    ...     sorted(journal.resume(frozenset({"h1"}), repair=False).done)
    ['h1']
    """

    def __init__(self, out: str | Path, request_hash: str, header: dict | None = None) -> None:
        self.path = Path(os.path.realpath(out))  # a symbolic link's target is the file
        self.request_hash = request_hash
        self.header = header
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        self._side_lock = None
        try:
            self._lock(str(out))
        except BaseException:
            os.close(self._fd)
            raise

    def _lock(self, shown: str) -> None:
        busy = InputError(
            f"{shown} is being written by another sweep; wait for it to end or choose another results file"
        )
        if fcntl is None:
            from filelock import FileLock, Timeout

            self._side_lock = FileLock(f"{self.path}.lock", timeout=0)
            try:
                self._side_lock.acquire()
            except Timeout:
                raise busy from None
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the lock and the file."""
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor releases its flock
            self._fd = -1
        if self._side_lock is not None:
            self._side_lock.release()

    def append(self, obj: dict) -> None:
        """One row (with provenance), flushed to disk before the next is computed."""
        self._append_line(dumps({**provenance(), **obj}, sort_keys=True).encode())

    def _append_line(self, line: bytes) -> None:
        os.lseek(self._fd, 0, os.SEEK_END)
        _write_all(self._fd, line + b"\n")
        os.fsync(self._fd)

    def resume(
        self,
        hashes: frozenset[str],
        *,
        repair: bool,
        valid: Callable[[dict], bool] | None = None,
    ) -> Resumed:
        """The rows already written, after a line-by-line check; writes the header if empty.

        ``hashes`` are the request's configurations. A partial last line (an interrupted
        write) is always moved to ``FILE.corrupt``; other corrupt lines stop the run with their
        ``FILE:LINE`` unless ``repair``. With ``repair``, an unreadable header is written again
        from the request when its rows are the request's (any row of another request is
        quarantined with the header line). A row that ``valid`` rejects (one lacking what the
        request reads back from it) counts as corrupt.
        """
        self._finish_repair()
        lines = _read_all(self._fd).split(b"\n")
        partial = [lines.pop()] if lines[-1] else []  # no newline: an interrupted write
        lines = lines[:-1] if lines and not lines[-1] else lines
        if not lines:
            if partial:
                self._quarantine(partial)
                self._apply(b"")
            self._append_line(self._header_line())
            return Resumed(frozenset(), len(partial), False)
        header_ok = self._check_header(lines[0], hashes, lines[1:], repair)
        good, bad = [], list(partial)
        for number, line in enumerate(lines[1:], start=2):
            row = _record(line)
            if (
                row is None
                or not isinstance(row.get("hash"), str)
                or (not header_ok and row["hash"] not in hashes)
                or (valid is not None and not valid(row))
            ):
                if not repair:
                    raise InputError(
                        f"{self.path}:{number} is corrupt (not a result row); rerun with "
                        f"repair=True (--repair) to move corrupt lines to {self.path}.corrupt "
                        "and keep every good row"
                    )
                bad.append(line)
            else:
                good.append(line)
        if not header_ok:
            bad.insert(0, lines[0])
        if bad:
            self._quarantine(bad)
            head = lines[0] if header_ok else self._header_line()
            self._rewrite(b"".join(line + b"\n" for line in [head, *good]))
        done = frozenset((_record(line) or {})["hash"] for line in good)  # good: records
        return Resumed(done, len(bad), not header_ok)

    def _check_header(
        self, line: bytes, hashes: frozenset[str], rows: list[bytes], repair: bool
    ) -> bool:
        header = _record(line)
        if header is not None and header.get("grid_hash") == self.request_hash:
            return True
        if header is None and repair:
            ids = [(_record(r) or {}).get("hash") for r in rows]
            if any(i in hashes for i in ids) or not any(isinstance(i, str) for i in ids):
                return False  # rewritten from the request; rows not of it are quarantined
        found = header.get("grid_hash") if header else "no readable header"
        advice = (
            ""
            if header
            else " (repair=True, --repair, writes it again if its rows are this request's)"
        )
        raise InputError(
            f"results file {str(self.path)!r} belongs to another request ({found} != "
            f"{self.request_hash}){advice}; choose another results file"
        )

    def _header_line(self) -> bytes:
        record = {**provenance(), "grid_hash": self.request_hash, "grid": self.header}
        return dumps(record, sort_keys=True).encode()

    def _quarantine(self, lines: Iterable[bytes]) -> None:
        with open(f"{self.path}.corrupt", "ab") as quarantine:
            quarantine.write(b"".join(line + b"\n" for line in lines))

    def _rewrite(self, content: bytes) -> None:
        """Replace the file's content in place (so links keep pointing at it), crash-safe."""
        staged = Path(f"{self.path}.repair")
        partial = Path(f"{self.path}.repair.partial")
        partial.write_bytes(content)
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, staged)  # complete from here on: _finish_repair applies it
        self._apply(content)
        staged.unlink()

    def _apply(self, content: bytes) -> None:
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        _write_all(self._fd, content)
        os.fsync(self._fd)

    def _finish_repair(self) -> None:
        """A repair interrupted after its content was staged is applied now."""
        Path(f"{self.path}.repair.partial").unlink(missing_ok=True)
        staged = Path(f"{self.path}.repair")
        if staged.is_file():
            self._apply(staged.read_bytes())
            staged.unlink()


def check_output_file(path: Path, what: str, *, results: bool) -> None:
    """One output of a command, before any work: absent, or a regular file; and unless it is
    the command's own results file (``results``, which :class:`Journal` resumes or refuses),
    neither a results file nor a file another writer holds. Links are followed.

    Parameters
    ----------
    path : Path
        The output.
    what : str
        What it is, for the message.
    results : bool
        Whether it is a results file (resumed) rather than a file that is overwritten.

    Examples
    --------
    >>> check_output_file(Path("/dev/zero"), "--out", results=True)
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: --out '/dev/zero' is not a regular file (a character device)
    """
    if regular_file(path, what) is None or results:
        return
    real = Path(os.path.realpath(path))
    if _held_by_writer(real):
        raise InputError(
            f"{what} {str(path)!r} is being written by another command; choose another"
        )
    if _is_results_file(real):
        raise InputError(
            f"{what} {str(path)!r} is the results file of a sweep, a map or a pretraining table; "
            "choose another"
        )


def check_distinct(outputs: dict[str, Path]) -> None:
    """The outputs of one command name different files (through links, hard links included).

    Parameters
    ----------
    outputs : dict of str to Path
        The command's outputs, by flag.

    Examples
    --------
    >>> check_distinct({"--out": Path("a.jsonl"), "--plot": Path("./a.jsonl")})
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: --out 'a.jsonl' and --plot 'a.jsonl' are the same file
    """
    seen: dict[object, tuple[str, Path]] = {}
    for what, path in outputs.items():
        real = Path(os.path.realpath(path))
        key = (real.stat().st_dev, real.stat().st_ino) if real.exists() else real
        if key in seen:
            first, shown = seen[key]
            raise InputError(f"{first} {str(shown)!r} and {what} {str(path)!r} are the same file")
        seen[key] = (what, path)


def _held_by_writer(path: Path) -> bool:
    if fcntl is None:
        return Path(f"{path}.lock").exists()
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # releases the shared lock taken just to look
    return False


def _is_results_file(path: Path) -> bool:
    """Whether the first line is a results header (a record with the request's hash)."""
    with open(path, "rb") as handle:
        head = handle.readline(1 << 20)
    record = _record(head.rstrip(b"\n"))
    return record is not None and "grid_hash" in record


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _record(line: bytes) -> dict | None:
    """A JSON object from one line, or None for anything else (bad UTF-8 or JSON included)."""
    try:
        value = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
