from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.feeds.prefetch import read_ahead


def test_items_come_in_order_and_all_of_them() -> None:
    assert list(read_ahead(range(1000), depth=3)) == list(range(1000))


def test_an_error_while_reading_is_raised_where_its_item_would_have_been() -> None:
    def chunks() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("line 3: bad date")

    seen: list[int] = []
    with pytest.raises(ValueError, match="line 3: bad date"):
        for item in read_ahead(chunks()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_closes_the_reader_and_its_thread() -> None:
    closed = threading.Event()
    produced: list[int] = []

    def chunks() -> Iterator[int]:
        try:
            for n in range(100):
                produced.append(n)
                yield n
        finally:
            closed.set()

    reader = read_ahead(chunks(), depth=1)
    assert next(reader) == 0
    reader.close()
    assert closed.wait(5)
    assert len(produced) <= 3  # one handed over, one waiting in the queue, one being put
    assert not any(t.name == "feed-read-ahead" and t.is_alive() for t in threading.enumerate())


def test_the_reader_runs_in_another_thread_than_the_consumer() -> None:
    threads: list[str] = []

    def chunks() -> Iterator[int]:
        for n in range(3):
            threads.append(threading.current_thread().name)
            yield n

    assert list(read_ahead(chunks())) == [0, 1, 2]
    assert set(threads) == {"feed-read-ahead"}
