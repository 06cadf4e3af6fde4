"""The neutral KPI record every feed produces and `services.ingest` consumes (DESIGN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

SubjectKind = Literal["agent", "queue"]
FactValue = float | bool | None

#: Raw contact fields a feed may set; the metric catalogue turns them into numerator/denominator pairs.
#: Durations are seconds, ratings are on the source scale, booleans say whether something happened.
FACT_KEYS: frozenset[str] = frozenset(
    {
        "answered",  # an agent took the contact
        "abandoned",  # the caller hung up while queued (not IVR self-service)
        "resolved",  # first-contact resolution
        "wait",  # seconds queued before answer (speed of answer)
        "talk",
        "hold",
        "acw",
        "handle",  # talk + hold + acw when the source gives it whole
        "rating",  # CSAT on the source scale; None = no survey
        "nps",  # 0-10 likelihood to recommend
        "save_attempt",
        "saved",
        "scheduled_minutes",
        "adhered_minutes",
    }
)


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """Who a record is about: an agent, keyed by the source's own agent key, or a queue."""

    kind: SubjectKind
    key: str
    display_name: str | None = None


@dataclass(slots=True)
class KpiRecord:
    """One KPI record, as a feed delivers it.

    `occurred_at` is always timezone-aware: a feed turns naive wall-clock times into instants with the
    source's zone; the business day is computed later, from the agent's team.
    `metrics` holds pre-aggregated `{key: (numerator, denominator)}` pairs for exports that give an
    average over a count; `facts` holds raw contact fields (see FACT_KEYS). `line` lets a rejection made
    when the record is stored name its row of the file.
    """

    source: str
    external_id: str
    subject: SubjectRef
    occurred_at: datetime
    version: int = 1
    facts: dict[str, FactValue] = field(default_factory=dict)
    metrics: dict[str, tuple[float, float]] = field(default_factory=dict)
    void: bool = False
    line: int = field(default=0, compare=False)  # 1-based line or sheet row in the file; 0: no file


@dataclass(frozen=True, slots=True)
class RowReject:
    """A row or item that could not become a record; `line` is 1-based in the source file."""

    line: int
    reason: str
    raw: str = ""
