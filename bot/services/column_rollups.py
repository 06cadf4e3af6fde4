"""Rollup deltas of records given as fact columns, summed per (subject, day) with numpy.

The same integer pairs as `scoring.metrics.contributions` record by record: each metric's numerator is
`round(value × SCALE)` per record (float64 arithmetic and round-half-even, as Python's), summed exactly in
int64. Facts this does not cover (the rare ones, non-float values, huge values) return False so the caller
adds those records one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import repeat
from operator import is_, is_not
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.scoring.metrics import RARE_FACTS, SCALE
from bot.services.rollup_deltas import RollupDeltas

_NUMBER_FACTS = ("wait", "talk", "handle", "hold", "acw", "rating")
_KNOWN = frozenset({"answered", "abandoned", "resolved", *_NUMBER_FACTS})
_NAN_FOR_NONE = {None: float("nan")}
_EXACT = float(2**53)  # |round(value × SCALE)| below this is exact in float64 and int64
Mask = npt.NDArray[np.bool_]


def add_fact_columns(
    deltas: RollupDeltas,
    subject_ids: Sequence[int],
    days: Sequence[date],
    facts: dict[str, list[Any]],
) -> bool:
    """Add the records' contributions to `deltas`; False (nothing added) when they need the record path."""
    present = {key for key, column in facts.items() if any(map(is_not, column, repeat(None)))}
    if present & RARE_FACTS or present - _KNOWN:
        return False
    size = len(subject_ids)
    numbers: dict[str, npt.NDArray[np.float64]] = {}
    for key in _NUMBER_FACTS:
        column = facts.get(key)
        if key not in present or column is None:
            continue
        if not set(map(type, column)) <= {float, int, type(None)}:
            return False
        numbers[key] = np.array(list(map(_NAN_FOR_NONE.get, column, column)), dtype=np.float64)

    def number(key: str) -> tuple[npt.NDArray[np.float64], Mask]:
        values = numbers.get(key)
        if values is None:
            return np.full(size, np.nan), np.zeros(size, dtype=np.bool_)
        return values, ~np.isnan(values)

    def is_true(key: str) -> Mask:
        column = facts.get(key)
        if column is None or key not in present:
            return np.zeros(size, dtype=np.bool_)
        return np.fromiter(map(is_, column, repeat(True)), dtype=np.bool_, count=size)

    answered = is_true("answered")
    abandoned = is_true("abandoned") & ~answered
    wait, has_wait = number("wait")
    talk, has_talk = number("talk")
    handle, has_handle = number("handle")
    hold, has_hold = number("hold")
    acw, has_acw = number("acw")
    rating, has_rating = number("rating")
    summed = ~has_handle & has_talk & has_hold & has_acw
    handle = np.where(summed, talk + hold + acw, handle)
    has_handle = has_handle | summed

    scaled: dict[str, tuple[Mask, npt.NDArray[np.int64] | int, int]] = {}
    one = SCALE
    scaled["handled"] = (answered, one, one)
    for metric, values, has in (
        ("aht", handle, has_handle),
        ("talk_time", talk, has_talk),
        ("asa", wait, has_wait),
    ):
        mask = answered & has
        if mask.any():
            numerators = _rounded(values, mask)
            if numerators is None:
                return False
            scaled[metric] = (mask, numerators, one)
    resolved = facts.get("resolved")
    if resolved is not None and "resolved" in present:
        has_resolved = np.fromiter(map(is_not, resolved, repeat(None)), dtype=np.bool_, count=size)
        truthy = np.fromiter(map(bool, resolved), dtype=np.bool_, count=size)
        scaled["fcr"] = (answered & has_resolved, np.where(truthy, one, 0).astype(np.int64), one)
    offered = answered | abandoned
    scaled["abandon_rate"] = (offered, np.where(abandoned, one, 0).astype(np.int64), one)
    in_time = answered & has_wait & (np.nan_to_num(wait, nan=np.inf) <= deltas.service_level_seconds)
    scaled["service_level"] = (offered, np.where(in_time, one, 0).astype(np.int64), one)
    if has_rating.any():
        numerators = _rounded(rating, has_rating)
        if numerators is None:
            return False
        scaled["csat"] = (has_rating, numerators, one)

    keys = list(zip(subject_ids, days, strict=True))
    groups = {key: index for index, key in enumerate(dict.fromkeys(keys))}
    group_of = np.fromiter(map(groups.__getitem__, keys), dtype=np.intp, count=size)
    count = len(groups)
    sums: list[tuple[str, list[int], list[int]]] = []
    for metric, (mask, each, denominator) in scaled.items():
        if not mask.any():
            continue
        members = group_of[mask]
        samples = np.bincount(members, minlength=count).astype(np.int64)
        if isinstance(each, int):
            totals = samples * each
        else:
            totals = np.zeros(count, dtype=np.int64)
            np.add.at(totals, members, each[mask])
        sums.append((metric, totals.tolist(), (samples * denominator).tolist()))
    group_keys = list(groups)
    for metric, totals_list, dens in sums:
        for group, num, den in zip(group_keys, totals_list, dens, strict=True):
            if den:
                deltas.add_sum(group, metric, num, den)
    for group in group_keys:
        deltas.touch(group)
    return True


def _rounded(values: npt.NDArray[np.float64], mask: Mask) -> npt.NDArray[np.int64] | None:
    """round(value × SCALE) where masked (0 elsewhere), or None if some product is too large to be exact."""
    products = np.where(mask, values, 0.0) * SCALE
    if np.abs(products).max(initial=0.0) >= _EXACT:
        return None
    rounded: npt.NDArray[np.int64] = np.rint(products).astype(np.int64)
    return rounded
