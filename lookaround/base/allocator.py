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

__all__ = ["keep_freed_memory"]

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
