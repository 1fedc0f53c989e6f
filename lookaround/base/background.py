"""Producing a stream on a second thread while the caller consumes it.

A streamed pass alternates two kinds of numpy work of similar cost: building a chunk of rows
(forward passes, labels) and feeding it to the pass's consumers. numpy releases the GIL in
both, so on two cores they overlap. The order of the items is kept, so results are the same,
bit for bit, as those of a plain loop.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

__all__ = ["in_background"]

Item = TypeVar("Item")
_DONE = object()


class _Failure:
    """An exception raised by the producer, carried to the consumer's thread."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def in_background(items: Iterator[Item], depth: int = 2) -> Generator[Item, None, None]:
    """Iterate ``items``, computed ahead on a daemon thread, at most ``depth`` items ahead.

    An exception in the producer is raised in the caller; a caller that stops early (or is
    interrupted) stops the producer after the item it is computing.

    Parameters
    ----------
    items : iterator
        The items to compute ahead; each is produced on the worker thread.
    depth : int
        How many items may wait, computed, for the consumer.

    Yields
    ------
    object
        The items of ``items``, in order; an exception raised producing one is raised here.

    Examples
    --------
    >>> list(in_background(iter(range(5))))
    [0, 1, 2, 3, 4]
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as error:  # re-raised in the caller's thread
            put(_Failure(error))

    worker = threading.Thread(target=produce, name="lookaround-producer", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()
