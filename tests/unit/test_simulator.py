"""The demo's contact-center simulator: deterministic, realistic in shape, and webhook-ready."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from statistics import mean, median, quantiles
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.simulator import SOURCE, simulate
from bot.web.schemas import parse_item


def p10_50_90(values: list[float]) -> tuple[float, float, float]:
    cuts = quantiles(values, n=10, method="inclusive")
    return cuts[0], cuts[4], cuts[8]


def answered(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["facts"]["answered"]]


def test_the_same_seed_gives_the_same_day_and_another_seed_another() -> None:
    assert simulate(7).records() == simulate(7).records()
    assert simulate(7) == simulate(7)
    assert simulate(7).records() != simulate(8).records()


def test_summary_percentiles_match_ones_computed_from_the_records() -> None:
    simulation = simulate(7)
    records = simulation.records()
    calls = answered(records)
    handle = [r["facts"]["talk"] + r["facts"]["hold"] + r["facts"]["acw"] for r in calls]
    wait = [r["facts"]["wait"] for r in calls]
    ratings = [r["facts"]["rating"] for r in calls if r["facts"]["rating"] is not None]

    summary = simulation.summary()

    assert (summary.handle.p10, summary.handle.p50, summary.handle.p90) == pytest.approx(p10_50_90(handle))
    assert (summary.wait.p10, summary.wait.p50, summary.wait.p90) == pytest.approx(p10_50_90(wait))
    assert (summary.csat.p10, summary.csat.p50, summary.csat.p90) == pytest.approx(p10_50_90(ratings))
    assert (summary.contacts, summary.answered, summary.surveys) == (len(records), len(calls), len(ratings))
    assert summary.abandoned == len(records) - len(calls)


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_a_small_center_with_a_realistic_day(seed: int) -> None:
    simulation = simulate(seed)
    records = simulation.records()
    calls = answered(records)

    assert 2 <= len(simulation.teams) <= 3
    assert 10 <= len(simulation.agents) <= 14
    assert 600 <= len(records) <= 1000
    assert len({r["external_id"] for r in records}) == len(records)
    assert {r["source"] for r in records} == {SOURCE}
    assert 0.02 < 1 - len(calls) / len(records) < 0.15
    assert 0.22 < sum(r["facts"]["rating"] is not None for r in calls) / len(calls) < 0.38
    assert {r["facts"]["rating"] for r in calls} <= {None, 1, 2, 3, 4, 5}


def test_abandons_stay_on_a_queue_and_answered_contacts_on_an_agent() -> None:
    simulation = simulate(7)
    queues = {team.queue for team in simulation.teams}
    agents = {agent.key for agent in simulation.agents}

    for record in simulation.records():
        facts, subject = record["facts"], record["subject"]
        if facts["answered"]:
            assert subject["kind"] == "agent" and subject["key"] in agents
            assert facts["abandoned"] is False
            assert set(facts) == {
                "answered",
                "abandoned",
                "resolved",
                "wait",
                "talk",
                "hold",
                "acw",
                "rating",
            }
        else:
            assert subject == {"kind": "queue", "key": subject["key"]} and subject["key"] in queues
            assert facts["abandoned"] is True and facts["wait"] > 0
            assert "rating" not in facts and "talk" not in facts


def test_contacts_arrive_in_business_hours_with_a_mid_morning_peak() -> None:
    records = simulate(7).records()
    hours = Counter(datetime.fromisoformat(r["occurred_at"]).hour for r in records)

    assert set(hours) <= set(range(8, 18))
    assert hours[10] > 1.5 * hours[8]
    assert hours[10] > 1.5 * hours[17]


def test_handle_times_are_right_skewed_and_follow_each_agents_profile() -> None:
    simulation = simulate(7)
    by_agent: dict[str, list[float]] = defaultdict(list)
    for record in answered(simulation.records()):
        facts = record["facts"]
        by_agent[record["subject"]["key"]].append(facts["talk"] + facts["hold"] + facts["acw"])
    every = [value for values in by_agent.values() for value in values]
    profiles = {agent.key: agent.handle_mean for agent in simulation.agents}
    skills = {(agent.handle_mean, agent.csat_mean, agent.fcr) for agent in simulation.agents}

    assert mean(every) > median(every) * 1.05
    assert len(skills) == len(simulation.agents)
    fastest, slowest = min(profiles, key=profiles.__getitem__), max(profiles, key=profiles.__getitem__)
    assert mean(by_agent[fastest]) < mean(by_agent[slowest])


def test_every_record_is_a_valid_webhook_item() -> None:
    for record in simulate(7).records():
        parse_item(record)


def test_the_day_is_simulated_in_the_given_zone() -> None:
    records = simulate(7, date(2021, 7, 1), zone=ZoneInfo("America/Chicago")).records()
    instants = [datetime.fromisoformat(r["occurred_at"]) for r in records]

    assert {instant.utcoffset().total_seconds() for instant in instants} == {-5 * 3600}  # type: ignore[union-attr]
    assert {instant.date() for instant in instants} == {date(2021, 7, 1)}
    assert records[0]["external_id"].startswith("20210701-")
