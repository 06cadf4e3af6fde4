"""The metric catalogue: how raw contact facts become exact numerator/denominator pairs (DESIGN.md §4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

#: Numerators and denominators are stored as integers in millionths, so sums are exact and any order of
#: arrival or a rebuild from the records gives identical rollups.
SCALE = 1_000_000

Kind = Literal["total", "ratio"]
Better = Literal["higher", "lower"]
Unit = Literal["count", "seconds", "fraction", "score"]
#: Whose figure a metric is: "agent" metrics rank agents; a "queue" metric only means something for the
#: center (agents take only answered contacts, so every agent's abandon rate is 0); "both" is either.
Scope = Literal["agent", "queue", "both"]
Pair = tuple[int, int]


@dataclass(frozen=True, slots=True)
class MetricDef:
    key: str
    label: str
    kind: Kind
    better: Better
    unit: Unit
    samples: str
    scope: Scope = "agent"


CATALOGUE: dict[str, MetricDef] = {
    m.key: m
    for m in (
        MetricDef("handled", "Handled", "total", "higher", "count", "contacts"),
        MetricDef("aht", "AHT", "ratio", "lower", "seconds", "contacts"),
        MetricDef("talk_time", "Talk time", "ratio", "lower", "seconds", "contacts"),
        MetricDef("asa", "ASA", "ratio", "lower", "seconds", "contacts"),
        MetricDef("fcr", "FCR", "ratio", "higher", "fraction", "contacts"),
        MetricDef("csat", "CSAT", "ratio", "higher", "score", "surveys"),
        MetricDef("nps", "NPS", "ratio", "higher", "score", "responses"),
        MetricDef("abandon_rate", "Abandon rate", "ratio", "lower", "fraction", "offered", "queue"),
        MetricDef("service_level", "Service level", "ratio", "higher", "fraction", "offered", "both"),
        MetricDef("adherence", "Adherence", "ratio", "higher", "fraction", "scheduled minutes"),
        MetricDef("save_rate", "Save rate", "ratio", "higher", "fraction", "save attempts"),
    )
}


def scaled(value: float) -> int:
    return round(value * SCALE)


def contributions(
    facts: Mapping[str, float | bool | None] | None,
    metrics: Mapping[str, tuple[float, float] | list[float]] | None,
    *,
    service_level_seconds: float,
) -> dict[str, Pair]:
    """One record's contribution to each metric, as scaled (numerator, denominator) pairs."""
    pairs: dict[str, Pair] = _from_facts(facts, service_level_seconds) if facts else {}
    if metrics:
        for key, (num, den) in metrics.items():
            pairs[key] = (scaled(num), scaled(den))
    return pairs


_RARE_FACTS = frozenset({"nps", "scheduled_minutes", "adhered_minutes", "save_attempt", "saved"})
RARE_FACTS = _RARE_FACTS  # facts only some feeds have; column-wise rollups leave them to contributions


def _from_facts(facts: Mapping[str, float | bool | None], sl_seconds: float) -> dict[str, Pair]:
    out: dict[str, Pair] = {}
    one = SCALE
    get = facts.get
    answered = get("answered") is True
    abandoned = get("abandoned") is True
    if answered:
        out["handled"] = (one, one)
        wait = _number(get("wait"))
        talk = _number(get("talk"))
        handle = _number(get("handle"))
        if handle is None and talk is not None:
            hold, acw = _number(get("hold")), _number(get("acw"))
            if hold is not None and acw is not None:
                handle = talk + hold + acw
        if handle is not None:
            out["aht"] = (round(handle * one), one)
        if talk is not None:
            out["talk_time"] = (round(talk * one), one)
        if wait is not None:
            out["asa"] = (round(wait * one), one)
        resolved = get("resolved")
        if resolved is not None:
            out["fcr"] = (one if resolved else 0, one)
        out["abandon_rate"] = (0, one)
        out["service_level"] = (one if wait is not None and wait <= sl_seconds else 0, one)
    elif abandoned:
        out["abandon_rate"] = (one, one)
        out["service_level"] = (0, one)
    rating = _number(get("rating"))
    if rating is not None:
        out["csat"] = (round(rating * one), one)
    if not facts.keys().isdisjoint(_RARE_FACTS):
        _rare_facts(facts, out)
    return out


def _rare_facts(facts: Mapping[str, float | bool | None], out: dict[str, Pair]) -> None:
    one = SCALE
    nps = _number(facts.get("nps"))
    if nps is not None:
        out["nps"] = ((one if nps >= 9 else -one if nps <= 6 else 0), one)
    scheduled = _number(facts.get("scheduled_minutes"))
    adhered = _number(facts.get("adhered_minutes"))
    if scheduled and adhered is not None:
        out["adherence"] = (scaled(adhered), scaled(scheduled))
    if facts.get("save_attempt") is True:
        out["save_rate"] = (one if facts.get("saved") is True else 0, one)


def _number(value: float | bool | None) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    return float(value)


def value_of(metric: str, num: int, den: int) -> float | None:
    """The displayed value: a total is its numerator; a ratio is Σnum/Σden (None without samples)."""
    if CATALOGUE[metric].kind == "total":
        return num / SCALE
    if den == 0:
        return None
    return num / den


def samples_of(den: int) -> int:
    return round(den / SCALE)
