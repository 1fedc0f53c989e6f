"""Every file a command writes, checked before any work: never another output of the command,
another request's results file, a file a running sweep holds, a device or a pipe."""

from __future__ import annotations

from pathlib import Path

from lookaround.base.errors import InputError


def output(text: str, what: str, suffixes: tuple[str, ...] = (), *, results: bool = False) -> Path:
    """An output path checked before any work: its folder exists, it is no folder itself, its
    suffix (any case) is one of ``suffixes`` when they are given, and it is no device, pipe,
    nor (unless it is the command's own ``results`` file) another command's results file or a
    file being written."""
    from lookaround.simulations.journal import check_output_file

    if not text.strip():
        raise InputError(f"{what} must name a file, got {text!r}")
    path = Path(text)
    if not path.parent.is_dir():
        raise InputError(f"{what} {text!r}: the folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise InputError(f"{what} {text!r} is a folder, not a file")
    if suffixes and path.suffix.lower() not in suffixes:
        raise InputError(f"{what} {text!r} must end in {', '.join(suffixes)}")
    check_output_file(path, what, results=results)
    return path
