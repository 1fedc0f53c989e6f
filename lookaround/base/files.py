"""Reading the files a user names: sources, witnesses and grids, each refused in one line.

A named file must be a regular file of bounded size: a FIFO or a device would block the read
(or never end), a directory is not a file, and a file of gigabytes is no source. Every check
happens before a byte is read.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from lookaround.base.errors import InputError

__all__ = ["MAX_FILE_BYTES", "read_bytes", "read_json", "regular_file"]

MAX_FILE_BYTES = 64 * 2**20  # a source, witness or grid file; far larger ones are not


def read_bytes(path: str | Path, what: str) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_FILE_BYTES`, else an InputError.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What the file is, for the message (``"source file"``).

    Returns
    -------
    bytes
        Its contents, at most ``MAX_FILE_BYTES``.

    Examples
    --------
    >>> read_bytes("/dev/null", "source file")
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: source file '/dev/null' is not a regular file (a character device)
    """
    path = Path(path)
    try:
        info = regular_file(path, what)
        if info is None:
            raise FileNotFoundError(2, "No such file or directory")
        if info.st_size > MAX_FILE_BYTES:
            raise InputError(f"{what} {str(path)!r} is over {MAX_FILE_BYTES // 2**20} MB")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what} {str(path)!r}: {exc.strerror or exc}") from None


def regular_file(path: str | Path, what: str) -> os.stat_result | None:
    """The one rule for a file a command reads or writes: absent (None) or a regular file,
    links followed; a FIFO (which would block), a device (which never ends), a directory or a
    socket is an InputError. Checked by ``stat``, without opening: opening a FIFO blocks
    until a writer comes.

    Parameters
    ----------
    path : str or Path
        The file to read or write.
    what : str
        What the file is, for the message.

    Returns
    -------
    os.stat_result or None
        Its ``stat``, or None when it does not exist.

    Examples
    --------
    >>> regular_file("/dev/zero", "--out")
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: --out '/dev/zero' is not a regular file (a character device)
    """
    try:
        info = Path(path).stat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} {str(path)!r} is not a regular file ({_kind(info.st_mode)})")
    return info


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR,
             "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "not a file")


def read_json(path: str | Path, what: str) -> Any:
    """Parse a JSON file strictly: UTF-8, bounded size, no bare NaN or Infinity, bounded depth,
    no key given twice in one object (``json`` would keep the last one silently).

    Every way a file can be unreadable is one InputError naming the file, so a hostile file
    (a Latin-1 byte, a 5000-digit integer, 100,000 nested lists) is refused, never a crash.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What the file is, for the message.

    Returns
    -------
    object
        The parsed JSON value.
    """
    data = read_bytes(path, what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{what} {str(path)!r} is not UTF-8 (byte {data[exc.start]:#04x} at {exc.start})"
        ) from None

    def refuse(name: str) -> None:
        raise ValueError(f"bare {name} is not JSON")

    def unique(pairs: list[tuple[str, Any]]) -> dict:
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"key {key[:40]!r} given twice in one object")
            seen.add(key)
        return dict(pairs)

    try:
        return json.loads(text, parse_constant=refuse, object_pairs_hook=unique)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{what} {str(path)!r} is not valid JSON: {exc.msg} "
            f"at line {exc.lineno} column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InputError(f"{what} {str(path)!r} is not valid JSON: {reason}") from None
