"""The mapping file: how to read a CSV/XLSX layout and derive KPI records from its rows (docs/mappings.md).

A mapping is declarative YAML validated by pydantic. Nothing in it is ever evaluated as code: conditions,
templates and metrics are structured forms. Validation reports the file, the key path and the line.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.feeds.datetime_formats import check_format
from bot.feeds.mapping_yaml import KeyPath, YamlProblem, format_path, load_yaml
from bot.feeds.records import FACT_KEYS
from bot.feeds.values import DURATION_UNITS, PERCENT_UNITS, ColumnType, Parser, ValueProblem, make_parser
from bot.scoring.metrics import CATALOGUE

SHIPPED_PACKAGE = "bot.mappings"

BOOL_FACTS = frozenset({"answered", "abandoned", "resolved", "save_attempt", "saved"})
DURATION_FACTS = frozenset({"wait", "talk", "hold", "acw", "handle"})
MINUTE_FACTS = frozenset({"scheduled_minutes", "adhered_minutes"})

Scalar = str | bool | int | float


def _as_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _as_texts(value: Any) -> Any:
    return [_as_text(item) for item in value] if isinstance(value, list) else value


def _column_shorthand(value: Any) -> Any:
    return {"column": value} if isinstance(value, str) else value


Texts = Annotated[list[str], BeforeValidator(_as_texts)]


class MappingError(ValueError):
    """A mapping that cannot be used, with where it went wrong: file, key path and line."""

    def __init__(
        self, message: str, *, file: str | None = None, path: KeyPath = (), line: int | None = None
    ) -> None:
        self.message = message
        self.file = file
        self.path = path
        self.line = line
        where = ":".join(part for part in (file, str(line) if line else None) if part)
        at = format_path(path) if path else ""
        prefix = ", ".join(part for part in (where, at) if part)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class NumberStyle(_Spec):
    """Separators for numbers written as text."""

    thousands: str = ","
    decimal: str = "."

    @model_validator(mode="after")
    def _distinct(self) -> NumberStyle:
        if self.decimal == "" or len(self.decimal) != 1:
            raise ValueError("decimal must be one character")
        if self.thousands == self.decimal:
            raise ValueError("thousands and decimal separators must differ")
        return self


class ColumnSpec(_Spec):
    """How to read one column: its type and the options of that type."""

    type: ColumnType = "text"
    formats: list[str] | None = None
    unit: str | None = None
    truthy: Texts | None = None
    falsy: Texts | None = None
    null_tokens: Texts | None = None
    sentinels: Texts = Field(default_factory=list)
    thousands: str | None = None
    decimal: str | None = None

    @field_validator("formats")
    @classmethod
    def _formats(cls, formats: list[str] | None) -> list[str] | None:
        if formats is not None:
            if not formats:
                raise ValueError("give at least one format")
            for fmt in formats:
                try:
                    check_format(fmt)
                except ValueError as error:
                    raise ValueError(f"format {fmt!r} is not usable: {error}") from None
        return formats

    @model_validator(mode="after")
    def _options_fit_type(self) -> ColumnSpec:
        kind = self.type
        if self.formats is not None and kind not in ("date", "time", "datetime"):
            raise ValueError(f"formats apply to date, time and datetime columns, not {kind}")
        if self.unit is not None:
            allowed = {"duration": tuple(DURATION_UNITS), "percent": PERCENT_UNITS}.get(kind)
            if allowed is None:
                raise ValueError(f"unit applies to duration and percent columns, not {kind}")
            if self.unit not in allowed:
                raise ValueError(f"unit {self.unit!r} is not one of {list(allowed)}")
        if (self.truthy is not None or self.falsy is not None) and kind != "bool":
            raise ValueError(f"truthy and falsy apply to bool columns, not {kind}")
        both = {t.casefold() for t in self.truthy or ()} & {t.casefold() for t in self.falsy or ()}
        if both:
            raise ValueError(f"values listed as both truthy and falsy: {sorted(both)}")
        if (self.thousands is not None or self.decimal is not None) and kind not in (
            "number",
            "percent",
            "duration",
        ):
            raise ValueError(
                f"thousands and decimal apply to number, percent and duration columns, not {kind}"
            )
        return self


class Condition(_Spec):
    """A test on one column's parsed value, or a combination of tests; exactly one operator per level."""

    column: str | None = None
    equals: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    is_null: bool | None = None
    is_not_null: bool | None = None
    gt: Scalar | None = None
    gte: Scalar | None = None
    lt: Scalar | None = None
    lte: Scalar | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @property
    def operator(self) -> str:
        return next(name for name in self.model_fields_set if name != "column")

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        operators = sorted(self.model_fields_set - {"column"})
        names = [type(self).model_fields[name].alias or name for name in operators]
        if len(operators) != 1:
            choices = "equals, in, not_in, is_null, is_not_null, gt, gte, lt, lte, all, any, not"
            found = f"found {names}" if names else "found none"
            raise ValueError(f"a condition needs exactly one operator ({choices}); {found}")
        combinator = operators[0] in ("all", "any", "not_")
        if combinator and self.column is not None:
            raise ValueError(f"{names[0]!r} combines conditions and takes no column")
        if not combinator and self.column is None:
            raise ValueError(f"{names[0]!r} needs a column")
        if operators[0] in ("all", "any") and not getattr(self, operators[0]):
            raise ValueError(f"{names[0]!r} needs at least one condition")
        return self


class FactSpec(_Spec):
    """One fact: from a column, a constant, or a condition; `only_when` leaves it absent otherwise."""

    column: str | None = None
    value: Scalar | None = None
    when: Condition | None = None
    else_: bool | None = Field(default=False, alias="else")
    only_when: Condition | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return _column_shorthand(data)

    @model_validator(mode="after")
    def _one_source(self) -> FactSpec:
        sources = [name for name in ("column", "value", "when") if name in self.model_fields_set]
        if len(sources) != 1:
            raise ValueError(f"a fact needs exactly one of column, value or when; found {sources or 'none'}")
        if "else_" in self.model_fields_set and self.when is None:
            raise ValueError("'else' goes with 'when'")
        return self


class MetricSpec(_Spec):
    """A pre-aggregated pair: `mean` × `weight` over `weight`, or `num` over `den` (default 1)."""

    mean: str | None = None
    weight: str | None = None
    num: str | None = None
    den: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> MetricSpec:
        if self.mean is not None or self.weight is not None:
            if self.mean is None or self.weight is None or self.num is not None or self.den is not None:
                raise ValueError("use either {mean, weight} or {num, den}")
        elif self.num is None:
            raise ValueError("a metric needs {mean, weight} or {num} (and optionally den)")
        return self


class FilterSpec(_Spec):
    """Rows matching `skip_when` are skipped: neither records nor rejects, only counted."""

    skip_when: Condition
    reason: str | None = None


class ValueOrColumn(_Spec):
    column: str | None = None
    value: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return _column_shorthand(data)

    @model_validator(mode="after")
    def _one(self) -> ValueOrColumn:
        if (self.column is None) == (self.value is None):
            raise ValueError("give exactly one of column or value")
        return self


class SubjectSpec(_Spec):
    """Who a record is about: the agent key column, its display name, and the queue."""

    agent: str | None = None
    agent_name: str | None = None
    queue: ValueOrColumn | None = None

    @model_validator(mode="after")
    def _someone(self) -> SubjectSpec:
        if self.agent is None and self.queue is None:
            raise ValueError("give an agent column, a queue, or both")
        if self.agent_name is not None and self.agent is None:
            raise ValueError("agent_name needs an agent column")
        return self


class OccurredAtSpec(_Spec):
    """When: a datetime column, a date column (+ a time column), or a constant."""

    column: str | None = None
    date: str | None = None
    time: str | None = None
    value: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return _column_shorthand(data)

    @model_validator(mode="after")
    def _one_form(self) -> OccurredAtSpec:
        forms = [name for name in ("column", "date", "value") if getattr(self, name) is not None]
        if len(forms) != 1:
            raise ValueError(f"give exactly one of column, date (+ time) or value; found {forms or 'none'}")
        if self.time is not None and self.date is None:
            raise ValueError("time goes with date")
        if self.value is not None:
            try:
                datetime.fromisoformat(self.value)
            except ValueError:
                raise ValueError(f"value {self.value!r} is not an ISO 8601 date-time") from None
        return self


class VersionSpec(_Spec):
    column: str

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return _column_shorthand(data)


class Mapping(_Spec):
    """A file layout and the derivation of KPI records from its rows; see docs/mappings.md."""

    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    source: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    format: Literal["csv", "xlsx"] | None = None
    encoding: str = "utf-8-sig"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quotechar: str = Field(default='"', min_length=1, max_length=1)
    header_row: int = Field(default=1, ge=0)
    sheet: str | None = None
    timezone: str | None = None
    create_unknown_agents: bool = False
    null_tokens: Texts = Field(default_factory=lambda: ["", "n/a", "-"])
    numbers: NumberStyle = Field(default_factory=NumberStyle)
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    external_id: str = Field(min_length=1)
    version: VersionSpec | None = None
    occurred_at: OccurredAtSpec
    subject: SubjectSpec
    facts: dict[str, FactSpec] = Field(default_factory=dict)
    metrics: dict[str, MetricSpec] = Field(default_factory=dict)
    filters: list[FilterSpec] = Field(default_factory=list)

    _resolved: dict[str, ColumnSpec] = PrivateAttr(default_factory=dict)
    _sections: dict[str, set[str]] = PrivateAttr(default_factory=dict)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r}") from None
        return encoding

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            zone_info(zone)
        return zone

    @model_validator(mode="after")
    def _derivations_fit(self) -> Mapping:
        try:
            self._resolved, self._sections = _resolve_columns(self)
        except _Problem as problem:
            raise PydanticCustomError(
                "mapping", "{message}", {"message": problem.message, "path": problem.path}
            ) from None
        return self

    def column_spec(self, column: str) -> ColumnSpec:
        """The spec a referenced column is read with: declared under `columns`, or implied by its use."""
        return self._resolved[column]

    def referenced_columns(self) -> list[str]:
        """Every column the derivations read (not counting raw id-template placeholders)."""
        return list(self._resolved)

    def value_columns(self) -> list[str]:
        """The referenced columns read for anything besides occurred_at (facts, subject, filters…)."""
        return [column for column, sections in self._sections.items() if sections - {"occurred_at"}]

    def template_columns(self) -> list[str]:
        return [part for kind, part in parse_template(self.external_id) if kind == "column"]


def zone_info(name: str) -> tzinfo:
    """The zone for a name; UTC is the fast fixed-offset object. Raises ValueError for unknown names."""
    if name.upper() in ("UTC", "ETC/UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as 'Europe/Paris')") from None


TemplatePart = tuple[Literal["text", "column", "line", "file"], str]


def parse_template(template: str) -> list[TemplatePart]:
    """`"{vru+line}-{call_id}"` → parts. `{{`/`}}` are literal braces; `{_line}`, `{_file}` are built in."""
    parts: list[TemplatePart] = []
    for match in re.finditer(r"\{\{|\}\}|\{([^{}]*)\}|([{}])|[^{}]+", template):
        whole, name, stray = match.group(0), match.group(1), match.group(2)
        if stray:
            raise ValueError(f"unbalanced {stray!r} in template {template!r} (write {stray * 2} for a brace)")
        if whole in ("{{", "}}"):
            parts.append(("text", whole[0]))
        elif name is not None:
            if name == "_line":
                parts.append(("line", name))
            elif name == "_file":
                parts.append(("file", name))
            elif name.startswith("_"):
                raise ValueError(f"unknown built-in {{{name}}} in template (use {{_line}} or {{_file}})")
            elif not name.strip():
                raise ValueError("empty {} in template")
            else:
                parts.append(("column", name))
        else:
            parts.append(("text", whole))
    return parts


# ---- semantic checks: every referenced column gets one type that fits all its uses --------------------


@dataclass(frozen=True)
class _Problem(Exception):
    path: KeyPath
    message: str


@dataclass(frozen=True)
class _Use:
    path: KeyPath
    allowed: frozenset[str] | None  # None: any type
    default: ColumnType
    role: str


def _resolve_columns(mapping: Mapping) -> tuple[dict[str, ColumnSpec], dict[str, set[str]]]:
    """The spec of every referenced column, and the top-level sections that read it."""
    try:
        parse_template(mapping.external_id)
    except ValueError as error:
        raise _Problem(("external_id",), str(error)) from None
    _check_sections(mapping)
    uses, conditions = _collect_uses(mapping)
    resolved = {column: _column_type(mapping, column, column_uses) for column, column_uses in uses.items()}
    for condition, path in conditions:
        _check_literals(mapping, resolved, condition, path)
    sections = {column: {str(one.path[0]) for one in column_uses} for column, column_uses in uses.items()}
    return resolved, sections


def _check_sections(mapping: Mapping) -> None:
    if not mapping.facts and not mapping.metrics:
        raise _Problem(("facts",), "a mapping needs facts, metrics or both")
    for key, fact in mapping.facts.items():
        path: KeyPath = ("facts", key)
        if key not in FACT_KEYS:
            raise _Problem(path, f"unknown fact {key!r}; facts are {sorted(FACT_KEYS)}")
        if fact.value is not None:
            _check_constant(key, fact.value, (*path, "value"))
        if fact.when is not None and key not in BOOL_FACTS:
            raise _Problem((*path, "when"), f"'when' sets true/false, but {key!r} is not a yes/no fact")
    for key in mapping.metrics:
        if key not in CATALOGUE:
            raise _Problem(
                ("metrics", key), f"unknown metric {key!r}; the metrics are {', '.join(CATALOGUE)}"
            )
    answered = mapping.facts.get("answered")
    always_answered = answered is not None and answered.value is True
    if answered is not None and not always_answered and mapping.subject.queue is None:
        raise _Problem(
            ("subject", "queue"),
            "facts.answered can be false or absent, so unanswered contacts need a queue "
            "(subject.queue: {column: ...} or {value: ...})",
        )


def _collect_uses(mapping: Mapping) -> tuple[dict[str, list[_Use]], list[tuple[Condition, KeyPath]]]:
    uses: dict[str, list[_Use]] = {}

    def use(column: str, path: KeyPath, allowed: set[str] | None, default: ColumnType, role: str) -> None:
        uses.setdefault(column, []).append(
            _Use(path, frozenset(allowed) if allowed is not None else None, default, role)
        )

    when = mapping.occurred_at
    if when.column:
        use(when.column, ("occurred_at", "column"), {"datetime", "date"}, "datetime", "a date-time")
    if when.date:
        use(when.date, ("occurred_at", "date"), {"date"}, "date", "a date")
    if when.time:
        use(when.time, ("occurred_at", "time"), {"time"}, "time", "a time of day")
    if mapping.version:
        use(mapping.version.column, ("version", "column"), {"number", "datetime"}, "number", "a version")
    subject = mapping.subject
    for key in ("agent", "agent_name"):
        column = getattr(subject, key)
        if column:
            use(column, ("subject", key), {"text"}, "text", "a key")
    if subject.queue and subject.queue.column:
        use(subject.queue.column, ("subject", "queue", "column"), {"text"}, "text", "a key")

    conditions: list[tuple[Condition, KeyPath]] = []
    for key, fact in mapping.facts.items():
        path: KeyPath = ("facts", key)
        if fact.column:
            allowed, default, role = _fact_column_types(key)
            use(fact.column, (*path, "column"), allowed, default, role)
        if fact.when is not None:
            conditions.append((fact.when, (*path, "when")))
        if fact.only_when is not None:
            conditions.append((fact.only_when, (*path, "only_when")))
    for key, metric in mapping.metrics.items():
        for part in ("mean", "weight", "num", "den"):
            column = getattr(metric, part)
            if column:
                use(column, ("metrics", key, part), {"number", "percent", "duration"}, "number", "a quantity")
    for position, rule in enumerate(mapping.filters):
        conditions.append((rule.skip_when, ("filters", position, "skip_when")))
    for condition, path in conditions:
        for column, column_path in condition_columns(condition, path):
            use(column, column_path, None, "text", "a condition")
    return uses, conditions


def _column_type(mapping: Mapping, column: str, uses: list[_Use]) -> ColumnSpec:
    """The declared spec if it fits every use, else the type the uses imply."""
    declared = mapping.columns.get(column)
    if declared is not None:
        for one in uses:
            if one.allowed is not None and declared.type not in one.allowed:
                raise _Problem(
                    one.path,
                    f"column {column!r} is declared as {declared.type}, but {one.role} "
                    f"needs {' or '.join(sorted(one.allowed))}",
                )
        return declared
    typed = [one for one in uses if one.allowed is not None]
    kind = typed[0].default if typed else "text"
    for one in typed:
        if one.allowed is not None and kind not in one.allowed:
            raise _Problem(
                one.path,
                f"column {column!r} is used as {typed[0].role} and as {one.role}; "
                "declare its type under columns",
            )
    return ColumnSpec(type=kind)


def _fact_column_types(key: str) -> tuple[set[str], ColumnType, str]:
    if key in BOOL_FACTS:
        return {"bool"}, "bool", f"yes/no fact {key!r}"
    if key in DURATION_FACTS:
        return {"duration", "number"}, "duration", f"duration fact {key!r}"
    if key in MINUTE_FACTS:
        return {"number", "duration"}, "number", f"minutes fact {key!r}"
    return {"number"}, "number", f"score fact {key!r}"


def _check_constant(key: str, value: Scalar, path: KeyPath) -> None:
    if key in BOOL_FACTS:
        if not isinstance(value, bool):
            raise _Problem(path, f"{key!r} is a yes/no fact: use true or false")
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise _Problem(path, f"{key!r} takes a number")


def condition_columns(condition: Condition, path: KeyPath = ()) -> Iterator[tuple[str, KeyPath]]:
    """The columns a condition tests, each with its key path."""
    if condition.column is not None:
        yield condition.column, (*path, "column")
    for name in ("all", "any"):
        for position, inner in enumerate(getattr(condition, name) or ()):
            yield from condition_columns(inner, (*path, name, position))
    if condition.not_ is not None:
        yield from condition_columns(condition.not_, (*path, "not"))


def _check_literals(
    mapping: Mapping, resolved: dict[str, ColumnSpec], condition: Condition, path: KeyPath
) -> None:
    if condition.column is None:
        for name in ("all", "any"):
            for position, inner in enumerate(getattr(condition, name) or ()):
                _check_literals(mapping, resolved, inner, (*path, name, position))
        if condition.not_ is not None:
            _check_literals(mapping, resolved, condition.not_, (*path, "not"))
        return
    operator = condition.operator
    if operator in ("is_null", "is_not_null"):
        return
    spec = resolved[condition.column]
    parse = column_parser(mapping, spec, zone=UTC)
    raw = getattr(condition, operator)
    literals = raw if isinstance(raw, list) else [raw]
    alias = {"in_": "in"}.get(operator, operator)
    for literal in literals:
        try:
            condition_literal(spec, parse, literal)
        except (ValueProblem, ValueError) as error:
            raise _Problem(
                (*path, alias),
                f"{literal!r} cannot be compared with column {condition.column!r} ({spec.type}): {error}",
            ) from None
        if operator in ("gt", "gte", "lt", "lte") and spec.type in ("text", "bool"):
            raise _Problem((*path, alias), f"{alias} compares numbers, dates and times, not {spec.type}")


def column_parser(mapping: Mapping, spec: ColumnSpec, *, zone: tzinfo) -> Parser:
    """The memoised parser for a column of this mapping (global null tokens and number style applied)."""
    return make_parser(
        spec.type,
        zone=zone,
        formats=spec.formats,
        unit=spec.unit,
        truthy=spec.truthy,
        falsy=spec.falsy,
        null_tokens=spec.null_tokens if spec.null_tokens is not None else mapping.null_tokens,
        sentinels=spec.sentinels,
        thousands=spec.thousands if spec.thousands is not None else mapping.numbers.thousands,
        decimal=spec.decimal if spec.decimal is not None else mapping.numbers.decimal,
    )


def condition_literal(spec: ColumnSpec, parse: Parser, literal: Scalar) -> Any:
    """A literal from a condition as a parsed value of the column's type.

    Numbers written as YAML numbers are taken as already parsed (a percent as a fraction, a duration in
    seconds); text goes through the column's own parser, so `equals: "0:00:00"` compares like the data.
    """
    if isinstance(literal, bool):
        if spec.type != "bool":
            raise ValueError(f"true/false only compares with bool columns; quote {literal!r} to compare text")
        return literal
    if isinstance(literal, int | float) and spec.type in ("number", "percent", "duration"):
        return float(literal)
    return parse(_as_text(literal))


# ---- loading ------------------------------------------------------------------------------------------


def load_mapping(name_or_path: str) -> Mapping:
    """A shipped mapping by name (`bot/mappings/<name>.yaml`) or a mapping file by path."""
    path = Path(name_or_path)
    if (
        path.suffix.lower() in (".yaml", ".yml")
        or path.is_file()
        or "/" in name_or_path
        or "\\" in name_or_path
    ):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise MappingError(f"cannot read the mapping file: {error.strerror}", file=str(path)) from None
        return mapping_from_yaml(text, file=str(path), default_name=path.stem)
    shipped = resources.files(SHIPPED_PACKAGE).joinpath(f"{name_or_path}.yaml")
    if not shipped.is_file():
        names = ", ".join(m for m in _shipped_names()) or "none"
        raise MappingError(f"no shipped mapping named {name_or_path!r} (shipped: {names}), and no such file")
    return mapping_from_yaml(
        shipped.read_text(encoding="utf-8"),
        file=f"bot/mappings/{name_or_path}.yaml",
        default_name=name_or_path,
    )


def list_mappings() -> list[Mapping]:
    """The shipped mappings, sorted by name."""
    return sorted((load_mapping(name) for name in _shipped_names()), key=lambda m: m.name)


def _shipped_names() -> list[str]:
    folder = resources.files(SHIPPED_PACKAGE)
    return sorted(item.name[: -len(".yaml")] for item in folder.iterdir() if item.name.endswith(".yaml"))


def mapping_from_yaml(text: str, *, file: str | None = None, default_name: str | None = None) -> Mapping:
    """Parse and validate mapping YAML; errors are MappingErrors naming the file, key path and line."""
    try:
        data, lines = load_yaml(text)
    except YamlProblem as problem:
        raise MappingError(problem.message, file=file, path=problem.path, line=problem.line) from None
    if not isinstance(data, dict):
        raise MappingError("a mapping file must be a YAML mapping of keys to values", file=file, line=1)
    if default_name and "name" not in data:
        data = {"name": default_name, **data}
    try:
        return Mapping.model_validate(data)
    except ValidationError as error:
        raise _first_error(error, lines, file) from None


def _first_error(error: ValidationError, lines: dict[KeyPath, int], file: str | None) -> MappingError:
    details = error.errors()
    problems = []
    for detail in details:
        ctx = detail.get("ctx") or {}
        path: KeyPath = tuple(ctx["path"]) if "path" in ctx else tuple(detail["loc"])
        message = str(ctx.get("message") or detail["msg"])
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if detail["type"] == "extra_forbidden":
            message = f"unknown key {path[-1]!r}" if path else "unknown key"
        problems.append((path, message))
    path, message = problems[0]
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return MappingError(message, file=file, path=path, line=_line_of(path, lines))


def _line_of(path: KeyPath, lines: dict[KeyPath, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None
