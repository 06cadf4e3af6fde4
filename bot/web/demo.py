"""The demo's moving parts: a fresh database, the simulated roster, and an ACD posting to the webhook."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from bot.scoring.periods import Period
from bot.services.leaderboard import POINTS, board
from bot.services.roster import KeyRef, RosterReport, RosterRow, import_roster
from bot.simulator import SOURCE, Simulation

if TYPE_CHECKING:
    from bot.app import Floorboard

DEMO_DATABASE = "floorboard-demo.db"
BATCH_SIZE = 1000
SUPERVISOR = "Maya Brooks"


@dataclass(slots=True)
class Delivery:
    """What the simulated ACD's POSTs got back, summed over batches."""

    batches: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    rejected: list[str] = field(default_factory=list)


def fresh_database(cwd: Path) -> str:
    """A SQLite URL for `floorboard-demo.db` in `cwd`, after removing any earlier demo database."""
    path = cwd / DEMO_DATABASE
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def new_token() -> str:
    return "demo-" + secrets.token_urlsafe(24)


def seed_roster(fb: Floorboard, simulation: Simulation) -> RosterReport:
    """People, teams, ACD keys and console names for the simulated floor, plus one supervisor."""
    since = simulation.day - timedelta(days=90)
    namespace = fb.settings.console_namespace
    teams = {team.key: team for team in simulation.teams}
    rows = [
        RosterRow(
            line=line,
            name=agent.name,
            role="agent",
            team=agent.team,
            team_name=teams[agent.team].name,
            team_from=since,
            keys=[KeyRef("source", SOURCE, agent.key), KeyRef("console", namespace, agent.name)],
        )
        for line, agent in enumerate(simulation.agents, start=1)
    ]
    rows.append(
        RosterRow(
            line=len(rows) + 1,
            name=SUPERVISOR,
            role="supervisor",
            supervises=list(teams),
            keys=[KeyRef("console", namespace, SUPERVISOR)],
        )
    )
    return import_roster(fb.engine, rows, origin="demo roster", today=simulation.day, clock=fb.clock)


def post_records(
    client: httpx.Client, records: Sequence[dict[str, Any]], *, batch_size: int = BATCH_SIZE
) -> Delivery:
    """POST the records to /api/v1/events in batches; any non-202 answer is raised."""
    delivery = Delivery()
    for start in range(0, len(records), batch_size):
        result = post_batch(client, records[start : start + batch_size])
        delivery.batches += 1
        delivery.counts.update({k: v for k, v in result["counts"].items() if k != "received"})
        delivery.rejected.extend(
            f"{item['external_id']}: {item['reason']}"
            for item in result["items"]
            if item["status"] == "rejected"
        )
    return delivery


def post_batch(client: httpx.Client, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    response = client.post("/api/v1/events", json={"records": list(records)})
    if response.status_code != 202:
        raise RuntimeError(f"POST /api/v1/events answered {response.status_code}: {response.text}")
    result: dict[str, Any] = response.json()
    return result


def points_leader(fb: Floorboard, day: date) -> str | None:
    """Who tops the day's points board (the demo chats as them)."""
    with fb.engine.connect() as connection:
        entries = board(connection, fb.program, metric=POINTS, period=Period.DAY, at=day).entries
    return entries[0].name if entries else None
