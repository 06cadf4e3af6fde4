"""The leaderboard's JSON shape, shared by the web API and the CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.scoring.periods import Period
from bot.services.board_json import board_to_json
from bot.services.leaderboard import Board, Entry, Unranked


def test_a_board_becomes_plain_json() -> None:
    board = Board(
        metric="csat",
        period=Period.WEEK,
        start=date(2021, 3, 29),
        end=date(2021, 4, 4),
        team=None,
        as_of=datetime(2021, 4, 1, 12, 30),
        min_samples=5,
        entries=[
            Entry(1, 7, "Ana", 4.8, 12, True, 4.5, "bayesian(prior_weight=10, prior_mean=4.2)"),
            Entry(1, 9, "Ben", 4.8, 6, False, 4.5, "bayesian(prior_weight=10, prior_mean=4.2)"),
        ],
        unranked=[Unranked(3, "Cy", None, 0, True)],
    )

    assert board_to_json(board) == {
        "metric": "csat",
        "period": {"start": "2021-03-29", "end": "2021-04-04"},
        "as_of": "2021-04-01T12:30:00+00:00",
        "entries": [
            {
                "rank": 1,
                "agent": "Ana",
                "agent_id": 7,
                "value": 4.8,
                "samples": 12,
                "rank_value": 4.5,
                "method": "bayesian(prior_weight=10, prior_mean=4.2)",
            },
            {
                "rank": 1,
                "agent": "Ben",
                "agent_id": 9,
                "value": 4.8,
                "samples": 6,
                "rank_value": 4.5,
                "method": "bayesian(prior_weight=10, prior_mean=4.2)",
            },
        ],
        "unranked": [{"agent": "Cy", "agent_id": 3, "value": None, "samples": 0}],
    }


def test_an_empty_board_has_no_as_of() -> None:
    board = Board("points", Period.DAY, date(2021, 4, 1), date(2021, 4, 1), None, None, 1)

    assert board_to_json(board)["as_of"] is None
    assert board_to_json(board)["entries"] == []
    aware = Board(
        "points", Period.DAY, date(2021, 4, 1), date(2021, 4, 1), None, datetime(2021, 4, 1, 9, tzinfo=UTC), 1
    )
    assert board_to_json(aware)["as_of"] == "2021-04-01T09:00:00+00:00"
