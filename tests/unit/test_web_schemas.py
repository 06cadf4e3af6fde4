"""Item validation for the webhook: one record at a time, with reasons that name the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from bot.feeds.records import FACT_KEYS, KpiRecord, SubjectRef
from bot.scoring.metrics import CATALOGUE
from bot.web.schemas import EventRecord, Facts, Metrics, parse_item

GOOD: dict[str, Any] = {
    "source": "acd",
    "external_id": "c-1",
    "subject": {"kind": "agent", "key": "A17", "name": "Ana"},
    "occurred_at": "2021-04-01T09:30:00-05:00",
    "facts": {"answered": True, "wait": 12, "talk": 200.5, "hold": 0, "acw": 30, "rating": None},
}


def with_(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def reason(raw: Any) -> str:
    with pytest.raises(ValueError) as caught:
        parse_item(raw)
    return str(caught.value)


def test_a_good_item_becomes_a_kpi_record() -> None:
    record = parse_item(GOOD).to_record()

    assert record == KpiRecord(
        source="acd",
        external_id="c-1",
        subject=SubjectRef("agent", "A17", "Ana"),
        occurred_at=datetime(2021, 4, 1, 14, 30, tzinfo=UTC),
        version=1,
        facts={"answered": True, "wait": 12, "talk": 200.5, "hold": 0, "acw": 30, "rating": None},
    )
    assert record.occurred_at.utcoffset() == timedelta(hours=-5)
    assert record.occurred_at.tzinfo == timezone(timedelta(hours=-5))


def test_absent_facts_stay_absent_and_explicit_nulls_stay_null() -> None:
    facts = parse_item(with_(facts={"answered": True, "rating": None})).to_record().facts

    assert facts == {"answered": True, "rating": None}


def test_metrics_become_pairs_and_void_needs_no_facts() -> None:
    record = parse_item(with_(facts=None, metrics={"aht": {"num": 3600, "den": 12}})).to_record()
    assert record.metrics == {"aht": (3600, 12)}
    assert parse_item({**with_(version=2, void=True), "facts": None}).to_record().void


def test_the_web_schema_knows_every_fact_and_metric() -> None:
    assert set(Facts.model_fields) == FACT_KEYS
    assert set(Metrics.model_fields) == set(CATALOGUE)


@pytest.mark.parametrize(
    ("raw", "start", "fragment"),
    [
        (with_(occurred_at="2021-04-01T09:30:00"), "occurred_at:", "no UTC offset"),
        (with_(occurred_at="yesterday"), "occurred_at:", "ISO 8601"),
        (with_(occurred_at=1617269400), "occurred_at:", "ISO 8601 string"),
        (with_(facts={"answered": True, "csat": 5}), "facts.csat:", "unknown fact"),
        (with_(facts={"answered": 1}), "facts.answered:", "boolean"),
        (with_(facts={"talk": "200"}), "facts.talk:", "number"),
        (with_(facts={"talk": -1}), "facts.talk:", "must be 0 or more, got -1"),
        (with_(facts={"nps": 11}), "facts.nps:", "less than or equal to 10"),
        (with_(metrics={"speed": {"num": 1, "den": 1}}), "metrics.speed:", "unknown metric"),
        (with_(metrics={"aht": {"num": 1}}), "metrics.aht.den:", "required"),
        (with_(version=0), "version:", "greater than or equal to 1"),
        (with_(version="2"), "version:", "integer"),
        (with_(version=True), "version:", "integer"),
        (with_(subject={"kind": "team", "key": "x"}), "subject.kind:", "'agent' or 'queue'"),
        (with_(subject="A17"), "subject:", "JSON object"),
        (with_(external_id=""), "external_id:", "at least 1"),
        (with_(void="yes"), "void:", "boolean"),
        (with_(extra=1), "extra:", "unknown field"),
        (with_(facts={}), "record:", "facts or metrics"),
        ([1, 2], "record:", "JSON object"),
    ],
)
def test_a_bad_item_is_refused_with_a_reason_naming_its_field(raw: Any, start: str, fragment: str) -> None:
    text = reason(raw)

    assert text.startswith(start), text
    assert fragment in text


def test_missing_required_fields_are_each_named() -> None:
    text = reason({"facts": {"answered": True}})

    for name in ("source", "external_id", "subject", "occurred_at"):
        assert f"{name}: Field required" in text


def test_event_record_documents_each_field() -> None:
    schema = EventRecord.model_json_schema()

    assert all(prop.get("description") for prop in schema["properties"].values())


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"rating": -1}, "facts.rating: must be 0 or more, got -1"),
        ({"talk": 1e12}, "facts.talk: 1000000000000.0 seconds is more than 7 days (604,800 seconds)"),
        ({"wait": 604_801}, "facts.wait: 604801 seconds is more than 7 days (604,800 seconds)"),
        ({"handle": 700_000.5}, "facts.handle: 700000.5 seconds is more than 7 days (604,800 seconds)"),
        (
            {"scheduled_minutes": 10_081, "adhered_minutes": 60},
            "facts.scheduled_minutes: 10081 minutes is more than 7 days (10,080 minutes)",
        ),
        ({"nps": 11}, "facts.nps: Input should be less than or equal to 10"),
    ],
)
def test_impossible_values_are_refused_naming_the_field(facts: dict[str, Any], expected: str) -> None:
    assert reason(with_(facts={"answered": True, **facts})) == expected


def test_a_week_is_the_longest_duration_and_zero_the_lowest_rating() -> None:
    record = parse_item(with_(facts={"answered": True, "talk": 604_800, "rating": 0})).to_record()

    assert record.facts == {"answered": True, "talk": 604_800, "rating": 0}
    minutes = parse_item(with_(facts={"scheduled_minutes": 10_080, "adhered_minutes": 10_080}))
    assert minutes.to_record().facts == {"scheduled_minutes": 10_080, "adhered_minutes": 10_080}


def test_a_void_needs_neither_subject_nor_time_but_a_record_needs_both() -> None:
    void = parse_item({"source": "acd", "external_id": "c-1", "version": 3, "void": True})

    assert (void.subject, void.occurred_at, void.version, void.void) == (None, None, 3, True)
    with pytest.raises(
        ValueError, match=r"^subject and occurred_at are needed \(a void takes them from the stored record\)$"
    ):
        void.to_record()
    assert reason({"source": "acd", "external_id": "c-1", "facts": {"answered": True}}) == (
        "subject: Field required; occurred_at: Field required"
    )
    assert reason({"source": "acd", "external_id": "c-1", "void": False}) == (
        "subject: Field required; occurred_at: Field required"
    )
