"""Trailing baselines of improvement rules: read from the store, or computed from the rollups and stored.

A stored baseline is a cache of sums over rollups. It stays right because every change of a day's rollups
queues that day, and scoring a queued day recomputes the baselines of every later day whose window holds it
(`forward_days`); a day that loses a metric's data loses its stored baselines of that metric.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import date, timedelta

from sqlalchemy import Connection, String, and_, bindparam, cast, delete, or_, select

from bot.scoring.improvement import Baseline, DailySums, Window, reach
from bot.store.bulk import insert_rows
from bot.store.models import Rollup, StoredBaseline, table_of

DayKey = tuple[int, date]
Needed = Mapping[DayKey, Collection[tuple[str, Window]]]
DayBaselines = dict[tuple[str, str], Baseline]


def forward_days(
    connection: Connection, touched: Iterable[DayKey], windows: Collection[Window]
) -> set[DayKey]:
    """Working days after the touched ones whose baseline window (any of `windows`) holds a touched day."""
    firsts: dict[int, date] = {}
    for subject_id, day in touched:
        firsts[subject_id] = min(day, firsts.get(subject_id, day))
    if not firsts or not windows:
        return set()
    working = _working_days(connection, firsts)
    reached: set[DayKey] = set()
    for subject_id, day in touched:
        days = working.get(subject_id, [])
        for window in windows:
            reached.update((subject_id, later) for later in reach(days, day, window))
    return reached


def day_baselines(
    connection: Connection, needed: Needed, recompute: Collection[DayKey]
) -> dict[DayKey, DayBaselines]:
    """The baselines each scored agent-day needs: stored ones, except for `recompute` days and any missing,
    which are computed from the rollups and stored. `needed` holds every scored agent-day, an empty
    collection where it needs none; stored baselines a scored agent-day no longer needs are deleted."""
    if not needed:
        return {}
    subjects = sorted({subject_id for subject_id, _ in needed})
    days = [day for _, day in needed]
    stored: dict[DayKey, DayBaselines] = defaultdict(dict)
    rows = connection.execute(
        select(
            StoredBaseline.subject_id,
            cast(StoredBaseline.business_day, String),
            StoredBaseline.metric,
            StoredBaseline.span,
            StoredBaseline.num,
            StoredBaseline.den,
            StoredBaseline.days,
        ).where(
            StoredBaseline.subject_id.in_(subjects),
            StoredBaseline.business_day.between(min(days), max(days)),
        )
    ).all()
    parsed: dict[str, date] = {}
    for subject_id, text, metric, span, num, den, count in rows:
        day = parsed.get(text) or parsed.setdefault(text, date.fromisoformat(text))
        stored[(subject_id, day)][(metric, span)] = Baseline(num, den, count)

    result: dict[DayKey, DayBaselines] = {}
    missing: dict[DayKey, list[tuple[str, Window]]] = {}
    stale: list[tuple[int, date, str, str]] = []
    spans: dict[int, set[tuple[str, str]]] = {}  # by id: agent-days mostly share one collection
    for key, wanted in needed.items():
        held = stored.get(key, {})
        keys = spans.get(id(wanted))
        if keys is None:
            keys = spans[id(wanted)] = {(metric, window.key) for metric, window in wanted}
        if key not in recompute and held.keys() == keys:
            result[key] = held
            continue
        stale.extend(
            (*key, metric, span) for metric, span in held if key in recompute or (metric, span) not in keys
        )
        gaps = [(m, w) for m, w in wanted if key in recompute or (m, w.key) not in held]
        if gaps:
            missing[key] = gaps
        result[key] = {k: v for k, v in held.items() if k in keys}
    computed = _compute(connection, missing)
    for key, baselines in computed.items():
        result[key].update(baselines)
    _store(connection, stale, computed)
    return result


def compute_baselines(connection: Connection, needed: Needed) -> dict[DayKey, DayBaselines]:
    """Baselines straight from the rollups, storing nothing (what-if)."""
    return _compute(connection, needed)


def _compute(connection: Connection, needed: Needed) -> dict[DayKey, DayBaselines]:
    if not needed:
        return {}
    history = _history(connection, needed)
    out: dict[DayKey, DayBaselines] = {}
    for (subject_id, day), wanted in needed.items():
        sums = history.get(subject_id) or DailySums({})
        out[(subject_id, day)] = {(metric, w.key): sums.baseline(metric, day, w) for metric, w in wanted}
    return out


def _history(connection: Connection, needed: Needed) -> dict[int, DailySums]:
    """Each subject's daily sums before its latest needed day, back as far as its windows can reach."""
    spans: dict[int, tuple[date, date]] = {}
    for (subject_id, day), wanted in needed.items():
        if not wanted:  # no improvement rule's metric has data that day: nothing to look back for
            continue
        working = any(window.working for _, window in wanted)
        earliest = date.min if working else day - timedelta(days=max(w.days for _, w in wanted))
        low, high = spans.get(subject_id, (earliest, day))
        spans[subject_id] = (min(low, earliest), max(high, day))
    cells: dict[int, dict[date, dict[str, tuple[int, int]]]] = defaultdict(lambda: defaultdict(dict))
    parsed: dict[str, date] = {}
    ids = sorted(spans)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        low = min(spans[s][0] for s in chunk)
        high = max(spans[s][1] for s in chunk)
        rows = connection.execute(
            select(
                Rollup.subject_id, cast(Rollup.business_day, String), Rollup.metric, Rollup.num, Rollup.den
            )
            .where(Rollup.subject_id.in_(chunk), Rollup.business_day >= low, Rollup.business_day < high)
            .execution_options(yield_per=20000)
        )
        for subject_id, text, metric, num, den in rows:
            day = parsed.get(text) or parsed.setdefault(text, date.fromisoformat(text))
            cells[subject_id][day][metric] = (num, den)
    return {subject_id: DailySums(days) for subject_id, days in cells.items()}


def _working_days(connection: Connection, firsts: Mapping[int, date]) -> dict[int, list[date]]:
    low = min(firsts.values())
    rows = connection.execute(
        select(Rollup.subject_id, cast(Rollup.business_day, String))
        .where(
            Rollup.subject_id.in_(sorted(firsts)),
            Rollup.business_day > low,
            or_(Rollup.num != 0, Rollup.den != 0),
        )
        .distinct()
    )
    working: dict[int, list[date]] = defaultdict(list)
    for subject_id, text in rows:
        day = date.fromisoformat(text)
        if day > firsts[subject_id]:
            working[subject_id].append(day)
    for days in working.values():
        days.sort()
    return working


def _store(
    connection: Connection,
    stale: list[tuple[int, date, str, str]],
    computed: Mapping[DayKey, DayBaselines],
) -> None:
    table = StoredBaseline.__table__
    if stale:
        connection.execute(
            delete(StoredBaseline).where(
                and_(
                    table.c.subject_id == bindparam("s"),
                    table.c.business_day == bindparam("d"),
                    table.c.metric == bindparam("m"),
                    table.c.span == bindparam("w"),
                )
            ),
            [{"s": s, "d": d, "m": m, "w": w} for s, d, m, w in stale],
        )
    rows = [
        (subject_id, day, metric, span, b.num, b.den, b.days)
        for (subject_id, day), baselines in computed.items()
        for (metric, span), b in baselines.items()
    ]
    insert_rows(
        connection,
        table_of(StoredBaseline),
        ("subject_id", "business_day", "metric", "span", "num", "den", "days"),
        rows,
    )
