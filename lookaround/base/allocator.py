"""Keeping freed memory in the process: the one allocator setting the command line makes.

A streamed analysis makes many short-lived arrays of a few megabytes (each block's rows,
labels and products). glibc serves each from fresh pages of the operating system and returns
them when freed, so every one pays its page faults again: on this project's 2-core machine
that was a fifth of ``analyze``'s time for ``vmlm`` at ``T = 14`` (3.5 s against 2.6 s).
Asking glibc to keep freed blocks for reuse removes that cost; peak memory is unchanged,
since a block is only reused, never added. It is a process-wide setting, so the library
never makes it on its own: :func:`lookaround.cli.main` does, and a program that calls the
library can.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "keep_freed_memory"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters of glibc's malloc.h
_KEEP = 1 << 30  # freed blocks kept up to 1 GiB, and served from the heap up to this size


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to reuse freed blocks instead of returning them to the system.

    Returns
    -------
    bool
        Whether the setting was made (False where the C library is not glibc).

    Examples
    --------
    >>> keep_freed_memory() in (True, False)
    True
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _KEEP)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a block that builds many acyclic objects.

    Each collection walks every tracked object allocated since the last one, and a table of
    half a million patterns triggers thousands of them for nothing: vmlm's at ``T = 16``
    (524,288 patterns) is parsed in 0.98 s with the collector paused, 1.46 s without.

    Examples
    --------
    >>> with collector_paused():
    ...     table = [(i, (i,)) for i in range(1000)]
    >>> gc.isenabled()
    True
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
