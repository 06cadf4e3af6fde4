"""Competition ranking: ties share a rank and the next rank skips (1, 1, 3)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def competition_ranks(
    items: Sequence[T], key: Callable[[T], float], *, descending: bool
) -> list[tuple[int, T]]:
    """Order items best first and give each its rank; equal keys share the rank of the first of them."""
    ordered = sorted(items, key=key, reverse=descending)
    ranked: list[tuple[int, T]] = []
    previous: float | None = None
    rank = 0
    for position, item in enumerate(ordered, start=1):
        value = key(item)
        if previous is None or value != previous:
            rank = position
            previous = value
        ranked.append((rank, item))
    return ranked
