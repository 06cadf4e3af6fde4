"""A small contact-center floor shared by the handler and console tests, and checks of the floor itself.

Eight agents with 10 CSAT surveys each on 2021-04-01 (the fixed clock's day), all with distinct means;
Ivy with 3 surveys (below CSAT's min_samples of 5); a supervisor of team Blue, an admin, and an agent
who moved from Blue to Red in March.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from sqlalchemy import insert, select

from bot.adapters.console import ConsoleAdapter, render_segments
from bot.app import Floorboard
from bot.feeds.records import KpiRecord, SubjectRef
from bot.handlers.commands import default_registry
from bot.handlers.context import HandlerContext
from bot.handlers.contract import DestinationKind, Message
from bot.store.models import Person, Supervision, Team, TeamMembership

DAY = date(2021, 4, 1)
RATINGS: dict[str, list[int]] = {
    "Martha Jones": [5] * 10,
    "Jim Park": [5] * 9 + [4],
    "Ann Lee": [5] * 8 + [4] * 2,
    "Ben Cole": [5] * 7 + [4] * 3,
    "Cara Diaz": [5] * 6 + [4] * 4,
    "Dan Fox": [5] * 5 + [4] * 5,
    "Eve Gray": [5] * 4 + [4] * 6,
    "Finn Hart": [5] * 3 + [4] * 7,
    "Ivy Moss": [4, 4, 5],
}
BLUE = ("Martha Jones", "Jim Park", "Ann Lee", "Ben Cole")
RED = ("Cara Diaz", "Dan Fox", "Finn Hart")
MOVED = "Eve Gray"  # Blue until 2021-03-15, Red since
SUPERVISOR = "Sam Reed"  # supervises Blue
ADMIN = "Ada King"


def ratings_records(ratings: dict[str, list[int]], *, day: date = DAY, prefix: str = "r") -> list[KpiRecord]:
    """One answered, rated call per rating, at 09:00 UTC of `day`; the agent key is the display name."""
    occurred = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    return [
        KpiRecord(
            "test",
            f"{prefix}-{name}-{index}",
            SubjectRef("agent", name, name),
            occurred,
            facts={"answered": True, "rating": rating},
        )
        for name, values in ratings.items()
        for index, rating in enumerate(values)
    ]


def seed(app: Floorboard, ratings: dict[str, list[int]] | None = None) -> dict[str, int]:
    """Ingest the ratings, add the roster around them; returns person ids by display name."""
    app.ingest(
        [ratings_records(RATINGS if ratings is None else ratings)],
        source="test",
        origin="test",
        create_unknown=True,
    )
    with app.engine.begin() as connection:
        for name, role in ((SUPERVISOR, "supervisor"), (ADMIN, "admin")):
            connection.execute(
                insert(Person).values(
                    display_name=name,
                    role=role,
                    skills=[],
                    attributes={},
                    public_boards=True,
                    created_at=datetime.now(UTC),
                )
            )
        ids = {name: int(pid) for name, pid in connection.execute(select(Person.display_name, Person.id))}
        blue = _team(connection, "blue", "Blue", {"console": "blue"})
        red = _team(connection, "red", "Red", {})
        since = date(2021, 1, 1)
        rows = [(ids[n], blue, since, None) for n in BLUE if n in ids]
        rows += [(ids[n], red, since, None) for n in RED if n in ids]
        if MOVED in ids:
            rows += [(ids[MOVED], blue, since, date(2021, 3, 15)), (ids[MOVED], red, date(2021, 3, 15), None)]
        connection.execute(
            insert(TeamMembership),
            [{"person_id": p, "team_id": t, "valid_from": f, "valid_to": to} for p, t, f, to in rows],
        )
        connection.execute(insert(Supervision).values(supervisor_id=ids[SUPERVISOR], team_id=blue))
    return ids


def _team(connection: object, key: str, name: str, channels: dict[str, str]) -> int:
    return int(
        connection.execute(  # type: ignore[attr-defined]
            insert(Team).values(key=key, name=name, channels=channels).returning(Team.id)
        ).scalar_one()
    )


def adapter(app: Floorboard, out: io.StringIO | None = None) -> ConsoleAdapter:
    return ConsoleAdapter(HandlerContext.of(app), default_registry(), out or io.StringIO(), channel="floor")


def say(app: Floorboard, name: str, line: str, delivery_id: str | None = None) -> list[Message]:
    """What `name` typing `line` in the console gets back, as Messages."""
    console = adapter(app)
    return console.handle(line, actor=console.actor(name), delivery_id=delivery_id)


def text(message: Message) -> str:
    return render_segments(message.segments)


def only(messages: list[Message], kind: DestinationKind) -> list[Message]:
    return [message for message in messages if message.destination.kind is kind]


def mean(name: str) -> float:
    return sum(RATINGS[name]) / len(RATINGS[name])


def test_the_floor_has_eight_ranked_agents_with_distinct_csat(app: Floorboard) -> None:
    ids = seed(app)
    ranked = [name for name, values in RATINGS.items() if len(values) >= 5]
    assert len(ranked) == 8
    assert len({mean(name) for name in ranked}) == 8
    assert {SUPERVISOR, ADMIN, *RATINGS} <= set(ids)
