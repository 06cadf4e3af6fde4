"""A mapping compiled against a CSV header into a chunk → columns function, the fast path of an import.

Each column of a chunk is parsed as a whole (a C-level map over a memo per distinct value), conditions and
facts are computed column by column, and no `KpiRecord` is built. Any row that is not plainly good (a bad
value, an empty id, a handled call without an agent, a day the clocks change) is flagged: the caller
sends it through the general row path (`row_plan`), so its record or reject reason is exactly the one
that path gives. `compile_columns` returns None for what it does not handle (typed cells, odd layouts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import partial
from itertools import compress, repeat
from operator import eq, ge, gt, is_, is_not, itemgetter, le, lt
from typing import Any, Literal

from bot.feeds.bounds import EARLIEST, FACT_LIMITS, LATEST, fact_problem, instant_problem, metric_problem
from bot.feeds.mapping import (
    MINUTE_FACTS,
    Condition,
    Mapping,
    column_parser,
    condition_columns,
    condition_literal,
    parse_template,
)
from bot.feeds.record_columns import RecordColumns, WallClock
from bot.feeds.records import SubjectRef
from bot.feeds.row_plan import column_positions
from bot.feeds.values import Memo, Parser, ValueProblem

Column = list[Any]
Columns = dict[str, Column]
Test = Callable[[Columns], list[bool]]
ColumnBuilder = Callable[[list[list[str]], list[int]], tuple[RecordColumns, list[int], bytes]]

_BAD: Any = object()  # a value its column's parser rejects
_SIZE = "\x00rows"  # a column of the chunk's length, for constant facts
_EPOCH_MILLIS = timedelta(milliseconds=1)


def compile_columns(
    mapping: Mapping,
    header: Sequence[str],
    *,
    zone: tzinfo,
    file_stem: str,
    width: int,
    filtered: Counter[str],
) -> ColumnBuilder | None:
    """`build(rows, lines) → (columns, flagged, kept)`: the records of the rows that are plainly good,
    the indices of the rows to send through the general row path, and per row whether it is in the
    columns. Rows that filters skip are counted in `filtered` and left out of both. Every row must have
    the same number of fields, `width` at least."""
    referenced = mapping.referenced_columns()
    template = parse_template(mapping.external_id)
    template_columns = [name for kind, name in template if kind == "column"]
    position = column_positions(header, [*referenced, *template_columns])
    if position and max(position.values()) >= width:
        return None
    parsers = {
        name: _rejecting(column_parser(mapping, mapping.column_spec(name), zone=zone)) for name in referenced
    }
    filter_columns = list(
        dict.fromkeys(c for rule in mapping.filters for c, _ in condition_columns(rule.skip_when))
    )
    filters = [
        (_test(mapping, rule.skip_when, parsers), rule.reason or f"filters[{index}]")
        for index, rule in enumerate(mapping.filters)
    ]
    value_columns = [c for c in mapping.value_columns() if c not in filter_columns]
    facts = _fact_columns(mapping, parsers)
    bool_facts = frozenset(key for key, _, is_bool in facts if is_bool)
    metrics = _metric_columns(mapping)
    moments = _moments(mapping, parsers, position, zone)
    ids = _ids(template, position, file_stem)
    subjects = _subjects(mapping)
    versions = _versions(mapping)
    source = mapping.source

    def build(rows: list[list[str]], lines: list[int]) -> tuple[RecordColumns, list[int], bytes]:
        size = len(rows)
        bad = bytearray(size)
        values: Columns = {}

        def parse(columns: list[str]) -> None:
            for name in columns:
                parsed = values[name] = list(map(parsers[name], map(itemgetter(position[name]), rows)))
                _mark(bad, parsed)

        parse(filter_columns)
        keep = bytearray(b"\x01") * size
        for skip, reason in filters:
            hits = skip(values)
            for index in range(size):
                if keep[index] and hits[index] and not bad[index]:
                    keep[index] = 0
                    filtered[reason] += 1
        parse(value_columns)
        instants, wall = moments(rows, bad)
        external_ids = ids(rows, lines, bad)
        values[_SIZE] = [None] * size
        fact_values = {key: compute(values) for key, compute, _ in facts}
        subject_refs = subjects(values, fact_values, bad)
        version_numbers = versions(values, size)
        metric_values = {key: compute(values) for key, compute in metrics}
        _mark_out_of_bounds(bad, fact_values, metric_values, instants, wall)
        if any(bad):
            flagged = [index for index in range(size) if bad[index] and keep[index]]
            chosen = bytes(k and not b for k, b in zip(keep, bad, strict=True))
        else:
            flagged, chosen = [], bytes(keep)
        if flagged or chosen.count(0):

            def kept(column: list[Any]) -> list[Any]:
                return list(compress(column, chosen))

        else:

            def kept(column: list[Any]) -> list[Any]:
                return column

        columns = RecordColumns(
            source,
            kept(external_ids),
            kept(subject_refs),
            None if instants is None else kept(instants),
            kept(version_numbers),
            {key: kept(column) for key, column in fact_values.items()},
            bool_facts,
            {key: kept(column) for key, column in metric_values.items()},
            None if wall is None else WallClock(wall.zone, kept(wall.days), kept(wall.times)),
            kept(lines),
        )
        return columns, flagged, chosen

    return build


def _mark_out_of_bounds(
    bad: bytearray,
    facts: Columns,
    metrics: Columns,
    instants: list[datetime] | None,
    wall: WallClock | None,
) -> None:
    """Flag rows with a value outside bot/feeds/bounds.py: the row path rejects them with its reason.

    Each column is checked once per distinct value, so a chunk costs little whatever its length.
    """
    for key, column in facts.items():
        if key in FACT_LIMITS:
            _mark_values(bad, column, partial(_bad_fact, key))
    for key, column in metrics.items():
        _mark_values(bad, column, partial(_bad_metric, key))
    if instants is not None:
        _mark_values(bad, instants, _bad_instant)
    elif wall is not None:  # a local day near the bounds: the row path decides on the instant
        _mark_values(bad, wall.days, _near_bounds)


def _bad_fact(key: str, value: Any) -> bool:
    return isinstance(value, float | int) and fact_problem(key, value) is not None


def _bad_metric(key: str, pair: Any) -> bool:
    return isinstance(pair, tuple) and metric_problem(key, *pair) is not None


def _bad_instant(instant: Any) -> bool:  # rows already flagged hold a placeholder
    return isinstance(instant, datetime) and instant_problem(instant) is not None


def _near_bounds(day: Any) -> bool:
    return isinstance(day, date) and not _SAFE_DAYS[0] <= day <= _SAFE_DAYS[1]


_SAFE_DAYS = (EARLIEST.date() + timedelta(days=1), LATEST.date() - timedelta(days=1))


def _mark_values(bad: bytearray, column: list[Any], out_of_bounds: Callable[[Any], bool]) -> None:
    wrong = {value for value in set(column) if out_of_bounds(value)}
    if wrong:
        for index, value in enumerate(column):
            if value in wrong:
                bad[index] = 1


def _rejecting(parse: Parser) -> Parser:
    def read(raw: object) -> Any:
        try:
            return parse(raw)
        except ValueProblem:
            return _BAD

    return Memo(read).__getitem__


def _mark(bad: bytearray, column: list[Any]) -> None:
    if any(map(is_, column, repeat(_BAD))):
        for index, value in enumerate(column):
            if value is _BAD:
                bad[index] = 1


# ---- conditions ---------------------------------------------------------------------------------------


def _test(mapping: Mapping, condition: Condition, parsers: dict[str, Parser]) -> Test:
    """A condition over whole columns, true or false per row as row_plan's predicate is."""
    operator = condition.operator
    if operator in ("all", "any", "not_"):
        inner = (
            [condition.not_]
            if operator == "not_"
            else list((condition.all if operator == "all" else condition.any) or ())
        )
        parts = [_test(mapping, part, parsers) for part in inner if part is not None]
        if operator == "not_":
            only = parts[0]
            return lambda values: [not hit for hit in only(values)]
        combine = all if operator == "all" else any
        return lambda values: list(map(combine, zip(*(part(values) for part in parts), strict=True)))
    assert condition.column is not None
    name = condition.column
    if operator == "is_null":
        expected = condition.is_null
        return lambda values: [(value is None) == expected for value in values[name]]
    if operator == "is_not_null":
        expected = condition.is_not_null
        return lambda values: [(value is not None) == expected for value in values[name]]
    spec = mapping.column_spec(name)
    parse = parsers[name]
    raw = getattr(condition, operator)

    def literal_of(item: Any) -> Any:
        value = condition_literal(spec, parse, item)
        if value is _BAD:
            raise ValueProblem(f"{item!r}")  # the mapping's own checks reject such literals first
        return value

    if operator in ("in_", "not_in"):
        options = frozenset(literal_of(item) for item in raw)
        if operator == "in_":
            return lambda values: list(map(options.__contains__, values[name]))
        return lambda values: [value not in options for value in values[name]]
    literal = literal_of(raw)
    if operator == "equals":
        return lambda values: list(map(eq, values[name], repeat(literal)))
    compare: Callable[[Any, Any], bool] = {"gt": gt, "gte": ge, "lt": lt, "lte": le}[operator]
    if literal is None:
        return lambda values: [False] * len(values[name])
    return lambda values: [
        value is not None and value is not _BAD and compare(value, literal) for value in values[name]
    ]


# ---- facts and metrics --------------------------------------------------------------------------------

FactColumn = tuple[str, Callable[[Columns], Column], bool]


def _fact_columns(mapping: Mapping, parsers: dict[str, Parser]) -> list[FactColumn]:
    """Facts in the order row_plan puts them in a record (constants, then column facts, then computed
    ones), each with whether its values are bools."""
    constant: list[FactColumn] = []
    direct: list[FactColumn] = []
    computed: list[FactColumn] = []
    for key, fact in mapping.facts.items():
        guard = _test(mapping, fact.only_when, parsers) if fact.only_when is not None else None
        extract: Callable[[Columns], Column]
        if fact.value is not None:
            fixed = fact.value if isinstance(fact.value, bool) else float(fact.value)
            is_bool = isinstance(fixed, bool)
            extract = _constant(fixed)
            if guard is None:
                constant.append((key, extract, is_bool))
                continue
        elif fact.when is not None:
            extract = _when(_test(mapping, fact.when, parsers), fact.else_)
            is_bool = True
        else:
            assert fact.column is not None
            is_bool = mapping.column_spec(fact.column).type == "bool"
            if key in MINUTE_FACTS and mapping.column_spec(fact.column).type == "duration":
                computed.append((key, _guarded(_minutes(fact.column), guard), is_bool))
                continue
            extract = _column(fact.column)
            if guard is None:
                direct.append((key, extract, is_bool))
                continue
        computed.append((key, _guarded(extract, guard), is_bool))
    return [*constant, *direct, *computed]


def _constant(fixed: Any) -> Callable[[Columns], Column]:
    return lambda values: [fixed] * len(values[_SIZE])


def _column(name: str) -> Callable[[Columns], Column]:
    return lambda values: values[name]


def _minutes(name: str) -> Callable[[Columns], Column]:
    return lambda values: [None if seconds is None else seconds / 60 for seconds in values[name]]


def _when(test: Test, otherwise: bool | None) -> Callable[[Columns], Column]:
    if otherwise is False:
        return test
    return lambda values: [True if hit else otherwise for hit in test(values)]


def _guarded(extract: Callable[[Columns], Column], guard: Test | None) -> Callable[[Columns], Column]:
    if guard is None:
        return extract
    return lambda values: [
        value if hit else None for value, hit in zip(extract(values), guard(values), strict=True)
    ]


def _metric_columns(mapping: Mapping) -> list[tuple[str, Callable[[Columns], Column]]]:
    plan: list[tuple[str, Callable[[Columns], Column]]] = []
    for key, metric in mapping.metrics.items():
        if metric.mean is not None and metric.weight is not None:
            plan.append((key, _mean_times_weight(metric.mean, metric.weight)))
            continue
        assert metric.num is not None
        plan.append((key, _ratio(metric.num, metric.den)))
    return plan


def _mean_times_weight(mean: str, weight: str) -> Callable[[Columns], Column]:
    return lambda values: [
        None if m is None or w is None else (m * w, w)
        for m, w in zip(values[mean], values[weight], strict=True)
    ]


def _ratio(num: str, den: str | None) -> Callable[[Columns], Column]:
    if den is None:
        return lambda values: [None if n is None else (n, 1.0) for n in values[num]]
    return lambda values: [
        None if n is None or d is None else (n, d) for n, d in zip(values[num], values[den], strict=True)
    ]


# ---- occurred_at, ids, subjects, versions -------------------------------------------------------------

Moments = Callable[[list[list[str]], bytearray], tuple[list[datetime] | None, WallClock | None]]


def _moments(mapping: Mapping, parsers: dict[str, Parser], position: dict[str, int], zone: tzinfo) -> Moments:
    """The instant of every row, and the wall clock they were read from when that decides business days.
    Rows of a day on which the zone's clocks change are flagged: the row path checks them for the gap."""
    spec = mapping.occurred_at
    if spec.value is not None:
        constant = datetime.fromisoformat(spec.value)
        if constant.tzinfo is None:
            constant = constant.replace(tzinfo=zone)
        return lambda rows, bad: ([constant] * len(rows), None)
    fixed = isinstance(zone, timezone)
    if spec.column is not None:
        column = spec.column
        parse = parsers[column]

        def moment(raw: str) -> Any:
            value = parse(raw)
            if value is _BAD or value is None:
                return _BAD
            if isinstance(value, datetime):
                return value
            return _BAD  # a bare date: the row path finds the start of that day

        moments = Memo(moment).__getitem__
        index = position[column]

        def from_column(rows: list[list[str]], bad: bytearray) -> tuple[list[datetime], WallClock | None]:
            instants = list(map(moments, map(itemgetter(index), rows)))
            _mark(bad, instants)
            return instants, None

        return from_column
    assert spec.date is not None
    date_column = spec.date
    date_parse = parsers[date_column]
    shifts = Memo(lambda day: not fixed and _clocks_change_on(day, zone)).__getitem__

    def day_of(raw: str) -> Any:
        day = date_parse(raw)
        if not isinstance(day, date) or shifts(day):
            return _BAD
        return day

    days_of = Memo(day_of).__getitem__
    date_index = position[date_column]
    if spec.time is None:
        midnight = time(tzinfo=zone)
        combine = datetime.combine

        def from_date(rows: list[list[str]], bad: bytearray) -> tuple[list[datetime], WallClock | None]:
            days = list(map(days_of, map(itemgetter(date_index), rows)))
            _mark(bad, days)
            instants = [_BAD if day is _BAD else combine(day, midnight) for day in days]
            return instants, WallClock(zone, days, [midnight.replace(tzinfo=None)] * len(days))

        return from_date
    time_column = spec.time
    time_parse = parsers[time_column]

    offsets: list[bool] = []  # whether any clock so far carried its own offset

    def clock_of(raw: str) -> Any:
        clock = time_parse(raw)
        if not isinstance(clock, time):
            return _BAD
        if clock.tzinfo is not None:
            offsets.append(True)
            return clock
        return clock.replace(tzinfo=zone)

    clocks_of = Memo(clock_of).__getitem__
    time_index = position[time_column]
    combine = datetime.combine

    def from_date_and_time(
        rows: list[list[str]], bad: bytearray
    ) -> tuple[list[datetime] | None, WallClock | None]:
        days = list(map(days_of, map(itemgetter(date_index), rows)))
        clocks = list(map(clocks_of, map(itemgetter(time_index), rows)))
        _mark(bad, days)
        _mark(bad, clocks)
        if not offsets:
            return None, WallClock(zone, days, clocks)  # the instants are combined when needed
        if any(bad):
            instants = [
                _BAD if day is _BAD or clock is _BAD else combine(day, clock)
                for day, clock in zip(days, clocks, strict=True)
            ]
        else:
            instants = list(map(combine, days, clocks))
        return instants, None

    return from_date_and_time


def _clocks_change_on(day: date, zone: tzinfo) -> bool:
    try:
        start = datetime.combine(day, time(), zone)
        return start.utcoffset() != (start + timedelta(days=1)).utcoffset()
    except OverflowError:
        return True


Ids = Callable[[list[list[str]], list[int], bytearray], list[str]]


def _ids(template: list[Any], position: dict[str, int], file_stem: str) -> Ids:
    if len(template) == 1 and template[0][0] == "column":
        index = position[template[0][1]]

        def single(rows: list[list[str]], lines: list[int], bad: bytearray) -> list[str]:
            ids = list(map(str.strip, map(itemgetter(index), rows)))
            if "" in ids:
                for row, text in enumerate(ids):
                    if not text:
                        bad[row] = 1
            return ids

        return single

    def composed(rows: list[list[str]], lines: list[int], bad: bytearray) -> list[str]:
        ids = []
        for row_index, (row, line) in enumerate(zip(rows, lines, strict=True)):
            parts = []
            for kind, value in template:
                if kind == "text":
                    parts.append(value)
                elif kind == "file":
                    parts.append(file_stem)
                elif kind == "line":
                    parts.append(str(line))
                else:
                    text = row[position[value]].strip()
                    if not text:
                        bad[row_index] = 1
                    parts.append(text)
            ids.append("".join(parts))
        return ids

    return composed


Subjects = Callable[[Columns, Columns, bytearray], list[SubjectRef]]


class _Refs(dict[Any, SubjectRef | None]):
    """One shared SubjectRef per key (or (key, display name)); None for no key or an unreadable one."""

    def __init__(self, kind: Literal["agent", "queue"]) -> None:
        super().__init__()
        self._kind: Literal["agent", "queue"] = kind

    def __missing__(self, wanted: Any) -> SubjectRef | None:
        key, name = wanted if isinstance(wanted, tuple) else (wanted, None)
        ref = None if key is None or key is _BAD else SubjectRef(self._kind, key, name)
        self[wanted] = ref
        return ref


def _subjects(mapping: Mapping) -> Subjects:
    """row_plan's choice column-wise: answered contacts are their agent's, unanswered ones the queue's;
    without an `answered` fact, the agent else the queue. A row with no one to belong to is flagged."""
    spec = mapping.subject
    agent_column, name_column = spec.agent, spec.agent_name
    queue_column = spec.queue.column if spec.queue else None
    fixed_queue = SubjectRef("queue", spec.queue.value) if spec.queue and spec.queue.value else None
    answered_decides = "answered" in mapping.facts
    agents = _Refs("agent")
    queues = _Refs("queue")

    def choose(values: Columns, facts: Columns, bad: bytearray) -> list[SubjectRef]:
        size = len(bad)
        if fixed_queue is not None or queue_column is None:
            queue_refs: list[SubjectRef | None] = [fixed_queue] * size
        else:
            queue_refs = list(map(queues.__getitem__, values[queue_column]))
        if agent_column is None:
            agent_refs: list[SubjectRef | None] = [None] * size
        elif name_column is None:
            agent_refs = list(map(agents.__getitem__, values[agent_column]))
        else:
            agent_refs = list(
                map(agents.__getitem__, zip(values[agent_column], values[name_column], strict=True))
            )
        if answered_decides:
            answered = list(map(is_, facts["answered"], repeat(True)))
            chosen = [
                agent if took else queue
                for agent, queue, took in zip(agent_refs, queue_refs, answered, strict=True)
            ]
        else:
            chosen = [agent or queue for agent, queue in zip(agent_refs, queue_refs, strict=True)]
        if not all(map(is_not, chosen, repeat(None))):
            for index, ref in enumerate(chosen):
                if ref is None:
                    bad[index] = 1
        return chosen  # type: ignore[return-value]  # the Nones are flagged

    return choose


def _versions(mapping: Mapping) -> Callable[[Columns, int], list[int]]:
    if mapping.version is None:
        return lambda values, size: [1] * size
    column = mapping.version.column
    if mapping.column_spec(column).type == "datetime":
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        return lambda values, size: [
            1 if moment is None or moment is _BAD else (moment - epoch) // _EPOCH_MILLIS
            for moment in values[column]
        ]
    return lambda values, size: [
        1 if value is None or value is _BAD else int(value) for value in values[column]
    ]
