"""Read the next chunk of a feed while the current one is stored.

Parsing is Python work; storing a chunk spends most of its time inside SQLite (or waiting on PostgreSQL),
which releases the GIL, so a reader thread one chunk ahead overlaps the two on a second core.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def read_ahead(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Yield `items` in order, producing up to `depth` of them ahead in a thread; the producer's
    exceptions are raised here, where the item would have been. Closing the iterator early stops it."""
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not _put(ready, item, stop):
                    return
        except BaseException as error:  # handed to the consumer, which raises it
            _put(ready, _Failure(error), stop)
            return
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # a file reader's generator closes its file in the thread that ran it
        _put(ready, _DONE, stop)

    worker = threading.Thread(target=produce, name="feed-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _put(ready: queue.Queue[object], item: object, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            ready.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
