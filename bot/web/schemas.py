"""The webhook's JSON shapes, documented field by field for the OpenAPI spec, and item validation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from bot.feeds.bounds import EARLIEST, record_problem
from bot.feeds.records import FACT_KEYS, KpiRecord, SubjectRef
from bot.scoring.metrics import CATALOGUE

#: No single contact lasts longer than a week: a bigger duration is a unit mistake (milliseconds, an epoch).
WEEK_SECONDS = 7 * 24 * 3600
WEEK_MINUTES = 7 * 24 * 60

Seconds = Annotated[float, Field(strict=True, ge=0, le=WEEK_SECONDS, allow_inf_nan=False)]
Minutes = Annotated[float, Field(strict=True, ge=0, le=WEEK_MINUTES, allow_inf_nan=False)]
Rating = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Flag = Annotated[bool, Field(strict=True)]
_LIMITS = {
    **{fact: ("seconds", WEEK_SECONDS) for fact in ("wait", "talk", "hold", "acw", "handle")},
    **{fact: ("minutes", WEEK_MINUTES) for fact in ("scheduled_minutes", "adhered_minutes")},
}

_FACTS: dict[str, tuple[Any, str]] = {
    "answered": (Flag, "an agent took the contact"),
    "abandoned": (Flag, "the caller hung up while queued; send it on a queue subject"),
    "resolved": (Flag, "resolved on first contact (FCR)"),
    "wait": (Seconds, "seconds queued before answer or abandon (at most 7 days)"),
    "talk": (Seconds, "talk seconds (at most 7 days)"),
    "hold": (Seconds, "hold seconds (at most 7 days)"),
    "acw": (Seconds, "after-contact work seconds (at most 7 days)"),
    "handle": (Seconds, "talk + hold + acw seconds, when the source gives it whole (at most 7 days)"),
    "rating": (Rating, "CSAT on the source scale (e.g. 1-5), ≥ 0; null or absent = no survey, never 0"),
    "nps": (Annotated[float, Field(strict=True, ge=0, le=10)], "0-10 likelihood to recommend"),
    "save_attempt": (Flag, "an at-risk customer was offered a save"),
    "saved": (Flag, "the save succeeded"),
    "scheduled_minutes": (Minutes, "minutes scheduled (adherence denominator; at most 7 days)"),
    "adhered_minutes": (Minutes, "minutes in adherence (adherence numerator; at most 7 days)"),
}
if set(_FACTS) != FACT_KEYS:
    raise RuntimeError(f"webhook facts out of step with FACT_KEYS: {sorted(set(_FACTS) ^ FACT_KEYS)}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricPair(_Strict):
    """A pre-aggregated metric: an average handle of 300 s over 12 contacts is {num: 3600, den: 12}."""

    num: Number = Field(description="numerator: a sum (seconds, ratings, hits)")
    den: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)] = Field(
        description="denominator: the count it is over (contacts, surveys, trials)"
    )


Facts: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "Facts",
    __base__=_Strict,
    __doc__="Raw contact fields; each one optional. Unknown names are rejected.",
    **{key: (kind | None, Field(default=None, description=text)) for key, (kind, text) in _FACTS.items()},
)

Metrics: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "Metrics",
    __base__=_Strict,
    __doc__="Pre-aggregated numerator/denominator pairs by metric key; for exports that give averages.",
    **{
        key: (MetricPair | None, Field(default=None, description=f"{m.label}: {m.unit} over {m.samples}"))
        for key, m in CATALOGUE.items()
    },
)


class Subject(_Strict):
    kind: Literal["agent", "queue"] = Field(
        description="agent: a person, by the source's agent key; queue: contacts no agent took (abandons)"
    )
    key: str = Field(min_length=1, max_length=300, description="the source's own key (ACD id, e-mail, queue)")
    name: str | None = Field(default=None, max_length=200, description="display name for a new agent")


class EventRecord(_Strict):
    """One KPI record; unique on (source, external_id, version).

    `subject` and `occurred_at` are required, except on a void: a void without them takes both from the
    stored record it retracts.
    """

    source: str = Field(min_length=1, max_length=100, description="must equal the source bound to the token")
    external_id: str = Field(
        min_length=1, max_length=300, description="the source's id of the contact or row"
    )
    version: Annotated[int, Field(strict=True, ge=1)] = Field(
        default=1, description="a higher version replaces; an equal one is a duplicate; a lower one is kept"
    )
    subject: Subject | None = Field(
        default=None,
        description="who the record is about: an agent, or a queue for abandons; "
        "required unless void (a void takes the stored record's)",
    )
    occurred_at: datetime | None = Field(
        default=None,
        description="ISO 8601 instant with an offset, e.g. 2021-04-01T09:30:00-05:00 or ...Z; "
        "required unless void (a void takes the stored record's)",
    )
    facts: Facts | None = Field(default=None, description="raw contact fields")  # type: ignore[valid-type]
    metrics: Metrics | None = Field(default=None, description="pre-aggregated pairs")  # type: ignore[valid-type]
    void: Flag = Field(default=False, description="true retracts the record with this external_id")

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _instant(cls, value: Any) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 string with an offset, e.g. 2021-04-01T09:30:00Z")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise ValueError(
                f"{value!r} has no UTC offset; send an instant such as {value}Z or {value}+02:00"
            )
        return parsed

    @model_validator(mode="after")
    def _says_something(self) -> EventRecord:
        given = [part for part in (self.facts, self.metrics) if part is not None and part.model_fields_set]
        if not self.void and not given:
            raise ValueError("a record needs facts or metrics (or void: true to retract it)")
        facts: dict[str, Any] = self.facts.model_dump(exclude_none=True) if self.facts else {}
        metrics: dict[str, Any] = self.metrics.model_dump(exclude_none=True) if self.metrics else {}
        problem = record_problem(
            facts,
            {key: (pair["num"], pair["den"]) for key, pair in metrics.items()},
            self.occurred_at or EARLIEST,
        )
        if problem:  # the same bounds as a file import's rows
            raise ValueError(problem)
        return self

    def to_record(self) -> KpiRecord:
        """The neutral record; a void's missing subject and occurred_at must be filled in first."""
        if self.subject is None or self.occurred_at is None:
            raise ValueError("subject and occurred_at are needed (a void takes them from the stored record)")
        facts: dict[str, Any] = self.facts.model_dump(exclude_unset=True) if self.facts else {}
        metrics: dict[str, Any] = self.metrics.model_dump(exclude_unset=True) if self.metrics else {}
        return KpiRecord(
            source=self.source,
            external_id=self.external_id,
            subject=SubjectRef(self.subject.kind, self.subject.key, self.subject.name),
            occurred_at=self.occurred_at,
            version=self.version,
            facts=facts,
            metrics={key: (pair["num"], pair["den"]) for key, pair in metrics.items() if pair is not None},
            void=self.void,
        )


class _LiveRecord(EventRecord):
    """A record that is not a void: who and when are required."""

    subject: Subject
    occurred_at: datetime


class EventBatch(_Strict):
    """A batch of up to `max_batch_records` records (default 1000); items are validated one by one."""

    records: list[EventRecord] = Field(description="the records; a bad item is rejected alone")
    create_unknown_agents: bool | None = Field(
        default=None,
        description="create a person for an unknown agent key instead of parking the record; "
        "default: the program's identity.create_unknown_agents",
    )


Status = Literal["accepted", "duplicate", "parked", "rejected"]


class ItemResult(BaseModel):
    index: int = Field(description="0-based position in `records`")
    external_id: str | None = Field(description="the item's external_id, when it had one")
    status: Status = Field(
        description="accepted (stored; counts if newest), duplicate (already had this version), "
        "parked (unknown agent; fix the roster and replay), rejected (malformed; see reason)"
    )
    reason: str | None = Field(default=None, description="why it was rejected or parked, naming the field")


class BatchCounts(BaseModel):
    received: int = Field(description="items in the batch")
    accepted: int = Field(description="stored now")
    duplicate: int = Field(description="already stored with this version; nothing changed")
    parked: int = Field(description="kept aside until their agent is known")
    rejected: int = Field(description="malformed; nothing stored")


class BatchResult(BaseModel):
    batch_id: int | None = Field(
        description="the import batch; `floorboard batches` lists and voids batches. "
        "null for an empty batch, which stores nothing"
    )
    counts: BatchCounts = Field(description="items by status")
    items: list[ItemResult] = Field(description="one per record, in order")


class Problem(BaseModel):
    detail: str = Field(description="what was wrong and what to do")


def parse_item(raw: Any) -> EventRecord:
    """Validate one item; raises ValueError with a reason that names the field.

    A void may leave out `subject` and `occurred_at`; any other record must give both.
    """
    model = EventRecord if isinstance(raw, dict) and raw.get("void") is True else _LiveRecord
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ValueError("; ".join(_reason(problem) for problem in error.errors())) from None


def _reason(problem: Any) -> str:
    loc = tuple(problem["loc"])
    where = ".".join(str(part) for part in loc) or "record"
    message = str(problem["msg"]).removeprefix("Value error, ")
    if problem["type"] == "extra_forbidden":
        if loc[:1] == ("facts",):
            message = f"unknown fact; known facts: {', '.join(sorted(FACT_KEYS))}"
        elif loc[:1] == ("metrics",):
            message = f"unknown metric; known metrics: {', '.join(CATALOGUE)}"
        else:
            message = "unknown field"
    elif problem["type"] == "model_type":
        message = "must be a JSON object"
    elif loc[:1] == ("facts",) and problem["type"] == "greater_than_equal":
        message = f"must be 0 or more, got {problem.get('input')!r}"
    elif loc[:1] == ("facts",) and problem["type"] == "less_than_equal" and loc[-1] in _LIMITS:
        unit, limit = _LIMITS[str(loc[-1])]
        message = f"{problem.get('input')!r} {unit} is more than 7 days ({limit:,} {unit})"
    if not loc and message.startswith(_NAMED):  # a bound checked on the whole record names its field
        return message
    return f"{where}: {message}"


_NAMED = ("facts.", "metrics.", "occurred_at:")
