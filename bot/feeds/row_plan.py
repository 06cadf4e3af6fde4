"""A mapping compiled against one file's header into a fast row → record function.

Everything that can be decided once is decided here: column positions, parsers, condition predicates,
fact and metric extractors, the id template. The per-row function then does only list indexing, memo
lookups and small closures, and builds `KpiRecord`s directly.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from operator import call, ge, gt, itemgetter, le, lt
from typing import Any

from bot.feeds.bounds import record_problem
from bot.feeds.mapping import (
    MINUTE_FACTS,
    Condition,
    Mapping,
    TemplatePart,
    column_parser,
    condition_columns,
    condition_literal,
    parse_template,
)
from bot.feeds.records import KpiRecord, SubjectRef
from bot.feeds.values import Memo, Parser, ValueProblem, cell_text, dst_gap, nonexistent

Row = Sequence[Any]
Values = list[Any]
Predicate = Callable[[Values], bool]
RowBuilder = Callable[[Row, int], KpiRecord | None]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


class LayoutError(ValueError):
    """The file does not fit the mapping (a referenced column is missing, the header is absent)."""


class RowProblem(ValueError):
    """Why one row cannot become a record; the message becomes `RowReject.reason`."""


def column_positions(header: Sequence[str], wanted: Sequence[str]) -> dict[str, int]:
    """Where each referenced column is: by exact header name, `#N` (1-based), or a unique loose match."""
    names = [name.strip().lstrip("\ufeff") for name in header]
    exact: dict[str, int] = {}
    duplicated: set[str] = set()
    for position, name in enumerate(names):
        if name in exact:
            duplicated.add(name)
        exact.setdefault(name, position)
    loose: dict[str, list[int]] = {}
    for position, name in enumerate(names):
        loose.setdefault(_loose(name), []).append(position)

    positions: dict[str, int] = {}
    missing: list[str] = []
    for column in wanted:
        if column in duplicated:
            raise LayoutError(f"column {column!r} appears more than once in the header; refer to it as '#N'")
        if column in exact:
            positions[column] = exact[column]
        elif column.startswith("#") and column[1:].isdigit() and int(column[1:]) >= 1:
            positions[column] = int(column[1:]) - 1
        elif len(loose.get(_loose(column), ())) == 1:
            positions[column] = loose[_loose(column)][0]
        else:
            missing.append(column)
    if missing:
        hints = []
        for column in missing:
            close = difflib.get_close_matches(column, [n for n in names if n], n=1, cutoff=0.75)
            hints.append(f"{column!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        shown = ", ".join(repr(n) for n in names if n)
        raise LayoutError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(hints)}; the header has {shown}"
        )
    return positions


def _loose(name: str) -> str:
    return " ".join(name.casefold().split())


def compile_rows(
    mapping: Mapping,
    header: Sequence[str],
    *,
    zone: tzinfo,
    file_stem: str,
    typed_cells: bool,
    filtered: Counter[str],
) -> RowBuilder:
    """The function turning one row (and its 1-based line) into a KpiRecord, None when filtered, or
    raising RowProblem. `filtered` counts skipped rows by filter reason."""
    referenced = mapping.referenced_columns()
    template = parse_template(mapping.external_id)
    template_columns = [name for kind, name in template if kind == "column"]
    position = column_positions(header, [*referenced, *template_columns])
    width = max(position.values(), default=-1) + 1
    parsers = {name: column_parser(mapping, mapping.column_spec(name), zone=zone) for name in referenced}
    filler: Any = None if typed_cells else ""

    # Columns read into the per-row value list: filter columns first, so a filtered row is skipped
    # before the rest of it is parsed. Columns only occurred_at reads are parsed by its own memos.
    occurred = mapping.occurred_at
    timing = _unique(c for c in (occurred.column, occurred.date, occurred.time) if c is not None)
    filter_columns = _unique(c for rule in mapping.filters for c, _ in condition_columns(rule.skip_when))
    slotted = filter_columns + [c for c in mapping.value_columns() if c not in filter_columns]
    slot = {name: index for index, name in enumerate(slotted)}
    first_parsers = [parsers[c] for c in filter_columns]
    first_cells = _picker([position[c] for c in filter_columns])
    rest = slotted[len(filter_columns) :]
    rest_parsers = [parsers[c] for c in rest]
    rest_cells = _picker([position[c] for c in rest])

    filters = [
        (_predicate(mapping, rule.skip_when, slot, parsers), rule.reason or f"filters[{index}]")
        for index, rule in enumerate(mapping.filters)
    ]
    direct_facts, computed_facts, constant_facts = _fact_plan(mapping, slot, parsers)
    direct_keys = [key for key, _ in direct_facts]
    direct_values = _picker([index for _, index in direct_facts])
    metric_plan = _metric_plan(mapping, slot)
    when_of = _occurred_at(mapping, position, parsers, zone)
    id_of = _id_builder(template, position, file_stem, typed_cells)
    # The common id, one CSV text column, is read inline; id_of explains an empty one.
    single_column = len(template) == 1 and template[0][0] == "column" and not typed_cells
    id_index = position[template[0][1]] if single_column else None
    subject_of = _subject_chooser(mapping, slot, position)
    version_of = _version_reader(mapping, slot)
    fixed_version = 1 if mapping.version is None else 0
    source = mapping.source
    explain = _explainer(
        mapping,
        position,
        parsers,
        checked=_unique([*slotted, *timing, *template_columns]),
        id_columns=template_columns,
        when_of=when_of,
        text_of=cell_text if typed_cells else str.strip,
        filler=filler,
    )

    def build(row: Row, line: int) -> KpiRecord | None:
        try:
            if filters:
                values = list(map(call, first_parsers, first_cells(row)))
                for skip, reason in filters:
                    if skip(values):
                        filtered[reason] += 1
                        return None
                values += map(call, rest_parsers, rest_cells(row))
            else:
                values = list(map(call, rest_parsers, rest_cells(row)))
            occurred_at = when_of(row)
            if id_index is None:
                record_id = id_of(row, line)
            else:
                record_id = row[id_index].strip()
                if not record_id:
                    record_id = id_of(row, line)
        except (ValueProblem, RowProblem) as problem:
            raise RowProblem(explain(row) or str(problem)) from None
        except IndexError:
            if len(row) >= width:
                raise
            return build([*row, *[filler] * (width - len(row))], line)
        facts = constant_facts.copy() if constant_facts else {}
        for key, value in zip(direct_keys, direct_values(values), strict=True):
            if value is not None:
                facts[key] = value
        for key, compute in computed_facts:
            value = compute(values)
            if value is not None:
                facts[key] = value
        metrics = {}
        for key, compute_pair in metric_plan:
            pair = compute_pair(values)
            if pair is not None:
                metrics[key] = pair
        bad_value = record_problem(facts, metrics, occurred_at)
        if bad_value:
            raise RowProblem(bad_value)
        return KpiRecord(
            source,
            record_id,
            subject_of(values, facts, row),
            occurred_at,
            fixed_version or version_of(values),
            facts,
            metrics,
            line=line,
        )

    return build


def _explainer(
    mapping: Mapping,
    position: dict[str, int],
    parsers: dict[str, Parser],
    *,
    checked: list[str],
    id_columns: list[str],
    when_of: Callable[[Row], datetime],
    text_of: Callable[[Any], str],
    filler: Any,
) -> Callable[[Row], str]:
    """The reason of a row that failed: every bad column in file order, `; `-separated. Runs only for
    rejected rows, so it re-reads each column instead of stopping at the first problem."""
    spec = mapping.occurred_at
    required = {
        column: need
        for column, need in (
            (spec.column, "every record needs a date and time"),
            (spec.date, "every record needs a date"),
            (spec.time, "every record needs a time"),
        )
        if column is not None
    }
    ids = set(id_columns)
    in_order = sorted(checked, key=lambda column: position[column])

    def explain(row: Row) -> str:
        problems: list[str] = []
        for column in in_order:
            index = position[column]
            raw = row[index] if index < len(row) else filler
            parse = parsers.get(column)
            value: Any = raw
            if parse is not None:
                try:
                    value = parse(raw)
                except ValueProblem as problem:
                    problems.append(f"column {column!r}: {problem}")
                    continue
            if column in required and value is None:
                problems.append(f"column {column!r} is empty; {required[column]}")
            elif column in ids and not text_of(raw):
                problems.append(f"column {column!r} is empty, and the external id is made from it")
        if not problems:
            try:
                when_of(row)  # a date and a time that are fine apart may not exist together (DST gap)
            except ValueProblem as problem:
                problems.append(str(problem))
            except IndexError:
                pass
        return "; ".join(dict.fromkeys(problems))

    return explain


def _picker(indices: list[int]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """A C-level `row → (row[i], row[j], ...)`; itemgetter alone returns a bare value for one index."""
    if not indices:
        return lambda row: ()
    if len(indices) == 1:
        only = indices[0]
        return lambda row: (row[only],)
    return itemgetter(*indices)


def _unique(items: Any) -> list[str]:
    return list(dict.fromkeys(items))


# ---- conditions ---------------------------------------------------------------------------------------


def _predicate(
    mapping: Mapping, condition: Condition, slot: dict[str, int], parsers: dict[str, Parser]
) -> Predicate:
    operator = condition.operator
    if operator == "all":
        parts = [_predicate(mapping, c, slot, parsers) for c in condition.all or ()]
        return lambda values: all(part(values) for part in parts)
    if operator == "any":
        parts = [_predicate(mapping, c, slot, parsers) for c in condition.any or ()]
        return lambda values: any(part(values) for part in parts)
    if operator == "not_":
        assert condition.not_ is not None
        inner = _predicate(mapping, condition.not_, slot, parsers)
        return lambda values: not inner(values)
    assert condition.column is not None
    index = slot[condition.column]
    if operator == "is_null":
        expected = condition.is_null
        return lambda values: (values[index] is None) == expected
    if operator == "is_not_null":
        expected = condition.is_not_null
        return lambda values: (values[index] is not None) == expected
    spec = mapping.column_spec(condition.column)
    parse = parsers[condition.column]
    raw = getattr(condition, operator)
    if operator in ("in_", "not_in"):
        options = frozenset(condition_literal(spec, parse, item) for item in raw)
        if operator == "in_":
            return lambda values: values[index] in options
        return lambda values: values[index] not in options
    literal = condition_literal(spec, parse, raw)
    if operator == "equals":
        return lambda values: values[index] == literal
    compare: Callable[[Any, Any], bool] = {"gt": gt, "gte": ge, "lt": lt, "lte": le}[operator]
    return lambda values: (
        values[index] is not None and literal is not None and compare(values[index], literal)
    )


# ---- facts and metrics --------------------------------------------------------------------------------


Extract = Callable[[Values], Any]


def _fact_plan(
    mapping: Mapping, slot: dict[str, int], parsers: dict[str, Parser]
) -> tuple[list[tuple[str, int]], list[tuple[str, Extract]], dict[str, Any]]:
    """Facts split by cost: straight from a value slot, computed by a closure, or constant."""
    direct: list[tuple[str, int]] = []
    computed: list[tuple[str, Extract]] = []
    constant: dict[str, Any] = {}
    for key, fact in mapping.facts.items():
        if fact.value is not None:
            fixed = fact.value if isinstance(fact.value, bool) else float(fact.value)
            if fact.only_when is None:
                constant[key] = fixed
                continue
            extract: Extract | int = lambda values, fixed=fixed: fixed  # noqa: E731
        elif fact.when is not None:
            extract = _when_fact(_predicate(mapping, fact.when, slot, parsers), fact.else_)
        else:
            assert fact.column is not None
            extract = slot[fact.column]
            if key in MINUTE_FACTS and mapping.column_spec(fact.column).type == "duration":
                extract = _in_minutes(extract)
        if fact.only_when is not None:
            computed.append((key, _guarded(extract, _predicate(mapping, fact.only_when, slot, parsers))))
        elif isinstance(extract, int):
            direct.append((key, extract))
        else:
            computed.append((key, extract))
    return direct, computed, constant


def _when_fact(test: Predicate, otherwise: bool | None) -> Extract:
    if otherwise is False:
        return test  # predicates return real bools
    return lambda values: True if test(values) else otherwise


def _in_minutes(index: int) -> Extract:
    def minutes(values: Values) -> Any:
        seconds = values[index]
        return None if seconds is None else seconds / 60

    return minutes


def _guarded(extract: Extract | int, guard: Predicate) -> Extract:
    if isinstance(extract, int):
        index = extract
        return lambda values: values[index] if guard(values) else None
    return lambda values: extract(values) if guard(values) else None


def _metric_plan(mapping: Mapping, slot: dict[str, int]) -> list[tuple[str, Callable[[Values], Any]]]:
    plan: list[tuple[str, Callable[[Values], Any]]] = []
    for key, metric in mapping.metrics.items():
        if metric.mean is not None and metric.weight is not None:
            mean, weight = slot[metric.mean], slot[metric.weight]

            def mean_times_weight(values: Values, mean: int = mean, weight: int = weight) -> Any:
                m, w = values[mean], values[weight]
                return None if m is None or w is None else (m * w, w)

            plan.append((key, mean_times_weight))
            continue
        assert metric.num is not None
        num = slot[metric.num]
        den = slot[metric.den] if metric.den is not None else None

        def ratio(values: Values, num: int = num, den: int | None = den) -> Any:
            n = values[num]
            if n is None:
                return None
            if den is None:
                return (n, 1.0)
            d = values[den]
            return None if d is None else (n, d)

        plan.append((key, ratio))
    return plan


# ---- occurred_at, id, subject, version ----------------------------------------------------------------


def _occurred_at(
    mapping: Mapping, position: dict[str, int], parsers: dict[str, Parser], zone: tzinfo
) -> Callable[[Row], datetime]:
    """The instant of a row. Naive wall-clock times take `zone`; one that the zone skips (the DST
    spring-forward gap) is a ValueProblem, an ambiguous one (the fall-back hour) is its first occurrence.
    A date alone means the start of that day, which is after the gap when midnight is skipped."""
    spec = mapping.occurred_at
    if spec.value is not None:
        constant = datetime.fromisoformat(spec.value)
        if constant.tzinfo is None:
            constant = constant.replace(tzinfo=zone)
        return lambda row: constant
    if spec.column is not None:
        index, parse, column = position[spec.column], parsers[spec.column], spec.column

        def required_moment(raw: object) -> datetime:
            moment = parse(raw)
            if isinstance(moment, datetime):
                return moment
            if isinstance(moment, date):
                return _start_of(moment, zone)
            raise ValueProblem(f"column {column!r} is empty; every record needs a date and time")

        moments = Memo(required_moment).__getitem__
        return lambda row: moments(row[index])
    assert spec.date is not None
    date_index, date_column = position[spec.date], spec.date
    date_parse = parsers[spec.date]

    def required_date(raw: object) -> date:
        day = date_parse(raw)
        if not isinstance(day, date):
            raise ValueProblem(f"column {date_column!r} is empty; every record needs a date")
        return day

    if spec.time is None:
        starts = Memo(lambda raw: _start_of(required_date(raw), zone)).__getitem__
        return lambda row: starts(row[date_index])
    days = Memo(required_date).__getitem__
    combine = datetime.combine
    time_index, time_column = position[spec.time], spec.time
    time_parse = parsers[spec.time]

    def zoned_time(raw: object) -> time:
        clock = time_parse(raw)
        if not isinstance(clock, time):
            raise ValueProblem(f"column {time_column!r} is empty; every record needs a time")
        return clock if clock.tzinfo is not None else clock.replace(tzinfo=zone)

    # datetime.combine keeps the time's tzinfo: naive times carry the source zone, explicit offsets win.
    times = Memo(zoned_time).__getitem__
    if isinstance(zone, timezone):  # a fixed offset (UTC among them) skips no wall-clock time
        return lambda row: combine(days(row[date_index]), times(row[time_index]))
    shifts = Memo(lambda day: _clocks_change_on(day, zone)).__getitem__

    def checked(row: Row) -> datetime:
        day = days(row[date_index])
        clock = times(row[time_index])
        moment = combine(day, clock)
        if shifts(day) and clock.tzinfo is zone:
            problem = nonexistent(moment)
            if problem:
                shown = f"{cell_text(row[date_index])} {cell_text(row[time_index])}"
                raise ValueProblem(f"columns {date_column!r} and {time_column!r}: {shown!r} {problem}")
        return moment

    return checked


def _start_of(day: date, zone: tzinfo) -> datetime:
    """Midnight of a day, or the end of the DST gap when the zone skips midnight that day."""
    midnight = datetime.combine(day, time(), zone)
    if isinstance(zone, timezone):
        return midnight
    gap = dst_gap(midnight)
    return midnight if gap is None else gap[1]


def _clocks_change_on(day: date, zone: tzinfo) -> bool:
    """Whether the zone's offset changes between this midnight and the next (a gap may be inside)."""
    try:
        start = datetime.combine(day, time(), zone)
        return start.utcoffset() != (start + timedelta(days=1)).utcoffset()
    except OverflowError:
        return True


def _id_builder(
    template: list[TemplatePart], position: dict[str, int], file_stem: str, typed_cells: bool
) -> Callable[[Row, int], str]:
    text_of: Callable[[Any], str] = cell_text if typed_cells else str.strip
    pieces: list[tuple[str, Any]] = []
    for kind, value in template:
        if kind == "column":
            pieces.append(("column", (value, position[value])))
        elif kind == "file":
            pieces.append(("text", file_stem))
        elif kind == "line":
            pieces.append(("line", None))
        else:
            pieces.append(("text", value))
    if len(pieces) == 1 and pieces[0][0] == "column":
        column, index = pieces[0][1]

        def single(row: Row, line: int) -> str:
            text = text_of(row[index])
            if not text:
                raise RowProblem(f"column {column!r} is empty, and the external id is made from it")
            return text

        return single

    def composed(row: Row, line: int) -> str:
        out = []
        for kind, value in pieces:
            if kind == "text":
                out.append(value)
            elif kind == "line":
                out.append(str(line))
            else:
                text = text_of(row[value[1]])
                if not text:
                    raise RowProblem(f"column {value[0]!r} is empty, and the external id is made from it")
                out.append(text)
        return "".join(out)

    return composed


def _subject_chooser(
    mapping: Mapping, slot: dict[str, int], position: dict[str, int]
) -> Callable[[Values, dict[str, Any], Row], SubjectRef]:
    """Answered contacts belong to their agent (no agent: a reject); contacts the mapping marks as not
    answered, or leaves undecided, belong to the queue; without an `answered` fact, agent else queue."""
    spec = mapping.subject
    agent_column, queue_column = spec.agent, spec.queue.column if spec.queue else None
    agent_index = slot[agent_column] if agent_column is not None else None
    name_index = slot[spec.agent_name] if spec.agent_name is not None else None
    queue_index = slot[queue_column] if queue_column is not None else None
    fixed_queue = SubjectRef("queue", spec.queue.value) if spec.queue and spec.queue.value else None
    answered_decides = "answered" in mapping.facts
    agents: dict[tuple[str, str | None], SubjectRef] = {}
    agents_by_key: dict[str, SubjectRef] = {}  # the common case: no display-name column
    queues: dict[str, SubjectRef] = {}
    key_only = agent_index if name_index is None else None

    def shown(column: str | None, row: Row) -> str:
        return "" if column is None else cell_text(row[position[column]])

    def agent(values: Values) -> SubjectRef | None:
        if agent_index is None or values[agent_index] is None:
            return None
        key: str = values[agent_index]
        name: str | None = values[name_index] if name_index is not None else None
        ref = agents.get((key, name))
        if ref is None:
            ref = agents[(key, name)] = SubjectRef("agent", key, name)
            if name_index is None:
                agents_by_key[key] = ref
        return ref

    def queue(values: Values) -> SubjectRef | None:
        if fixed_queue is not None or queue_index is None:
            return fixed_queue
        key = values[queue_index]
        if key is None:
            return None
        ref = queues.get(key)
        if ref is None:
            ref = queues[key] = SubjectRef("queue", key)
        return ref

    def choose(values: Values, facts: dict[str, Any], row: Row) -> SubjectRef:
        if facts.get("answered") is True:
            found = agents_by_key.get(values[key_only]) if key_only is not None else None
            if found is None:
                found = agent(values)
                if found is None:
                    raise RowProblem(
                        f"handled call without an agent ({agent_column} {shown(agent_column, row)!r})"
                    )
            return found
        if answered_decides:
            found = queue(values)
            if found is None:
                raise RowProblem(
                    f"unanswered contact without a queue ({queue_column} {shown(queue_column, row)!r})"
                )
            return found
        found = agent(values) or queue(values)
        if found is None:
            raise RowProblem(
                f"no agent and no queue for this row ({agent_column} {shown(agent_column, row)!r})"
            )
        return found

    return choose


def _version_reader(mapping: Mapping, slot: dict[str, int]) -> Callable[[Values], int]:
    if mapping.version is None:
        return lambda values: 1
    index = slot[mapping.version.column]
    if mapping.column_spec(mapping.version.column).type == "datetime":

        def epoch_millis(values: Values) -> int:
            moment = values[index]
            return 1 if moment is None else (moment - _EPOCH) // _MILLISECOND

        return epoch_millis

    def number(values: Values) -> int:
        value = values[index]
        return 1 if value is None else int(value)

    return number
