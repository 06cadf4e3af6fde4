"""A leaderboard as plain JSON: one shape for the web API and `floorboard leaderboard --json`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.services.leaderboard import Board, QueueBoard


def board_to_json(board: Board) -> dict[str, Any]:
    """The full board (admin view): ranked entries, then agents below the minimum sample."""
    return {
        "metric": board.metric,
        "period": {"start": board.start.isoformat(), "end": board.end.isoformat()},
        "as_of": instant(board.as_of),
        "entries": [
            {
                "rank": e.rank,
                "agent": e.name,
                "agent_id": e.person_id,
                "value": e.value,
                "samples": e.samples,
                "rank_value": e.rank_value,
                "method": e.method,
            }
            for e in board.entries
        ],
        "unranked": [
            {"agent": u.name, "agent_id": u.person_id, "value": u.value, "samples": u.samples}
            for u in board.unranked
        ],
    }


def queue_board_to_json(board: QueueBoard) -> dict[str, Any]:
    """The center-wide figure (`org`: value over samples offered) and the abandons of each queue."""
    return {
        "metric": board.metric,
        "period": {"start": board.start.isoformat(), "end": board.end.isoformat()},
        "as_of": instant(board.as_of),
        "org": {"value": board.value, "samples": board.samples},
        "queues": [{"queue": q.queue, "abandoned": q.abandoned} for q in board.queues],
    }


def instant(moment: datetime | None) -> str | None:
    """ISO 8601 with its offset on every database: SQLite hands back naive UTC times."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
