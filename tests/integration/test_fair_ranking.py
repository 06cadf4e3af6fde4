"""Ratio boards rank on a Bayesian average toward the board's mean, so one 5-star survey never tops them."""

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.feeds.records import KpiRecord, SubjectRef
from bot.program import parse_program
from bot.scoring.periods import Period
from bot.services.leaderboard import board

RATINGS = {"Lucky": [5], "Steady": [5] * 20 + [4] * 10, "Mid": [4] * 12 + [3] * 8, "Low": [3] * 15 + [2] * 5}


def _ingest(app) -> None:
    records, start = [], datetime(2021, 3, 2, 9, tzinfo=UTC)
    for agent, ratings in RATINGS.items():
        for i, rating in enumerate(ratings):
            facts = {"answered": True, "rating": rating}
            when = start + timedelta(minutes=i)
            records.append(KpiRecord("acd", f"{agent}-{i}", SubjectRef("agent", agent), when, facts=facts))
    app.ingest([records], source="acd", origin="test", create_unknown=True)


def test_one_perfect_survey_ranks_below_a_long_strong_record(any_app):
    program = parse_program("metrics:\n  csat: {min_samples: 1, prior_weight: 10}\n", "p.yaml").program
    _ingest(any_app)
    with any_app.engine.connect() as connection:
        result = board(connection, program, metric="csat", period=Period.MONTH, at=date(2021, 3, 15))

    all_ratings = [r for ratings in RATINGS.values() for r in ratings]
    prior = sum(all_ratings) / len(all_ratings)
    expected = {
        agent: (10 * prior + sum(ratings)) / (10 + len(ratings)) for agent, ratings in RATINGS.items()
    }
    order = sorted(expected, key=lambda agent: -expected[agent])
    assert [entry.name for entry in result.entries] == order
    assert order[0] == "Steady" and order.index("Lucky") > 0
    for entry in result.entries:
        assert entry.rank_value == pytest.approx(expected[entry.name])
        assert entry.value == pytest.approx(sum(RATINGS[entry.name]) / len(RATINGS[entry.name]))
        assert entry.method == f"bayesian(prior_weight=10, prior_mean={prior:.6g})"


def test_raw_ranking_is_still_selectable(any_app):
    program = parse_program("metrics:\n  csat: {min_samples: 1, rank_by: raw}\n", "p.yaml").program
    _ingest(any_app)
    with any_app.engine.connect() as connection:
        result = board(connection, program, metric="csat", period=Period.MONTH, at=date(2021, 3, 15))
    assert result.entries[0].name == "Lucky"
    assert {entry.method for entry in result.entries} == {"raw"}
    assert all(entry.rank_value == entry.value for entry in result.entries)
