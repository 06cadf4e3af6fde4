"""The console adapter: `--as` identities, mentions, plain-text rendering per destination, the Notifier."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from bot.adapters.console import ConsoleAdapter, render_segments
from bot.app import Floorboard
from bot.handlers.contract import (
    CALLER,
    Action,
    Destination,
    DestinationKind,
    Fields,
    Image,
    Mention,
    Message,
    Notifier,
    Table,
    Text,
    UserText,
)
from bot.store.models import Identity, Kudos, Person
from tests.unit.test_handlers_world import adapter, say, seed


def _add_person(app: Floorboard, name: str) -> int:
    with app.engine.begin() as connection:
        return int(
            connection.execute(
                insert(Person)
                .values(
                    display_name=name,
                    role="agent",
                    skills=[],
                    attributes={},
                    public_boards=True,
                    created_at=datetime(2021, 1, 1, tzinfo=UTC),
                )
                .returning(Person.id)
            ).scalar_one()
        )


def test_say_prints_each_destination(app: Floorboard) -> None:
    seed(app)
    out = io.StringIO()
    printed = adapter(app, out).say('/kudos @Jim @"Cara Diaz" great save #empathy', as_name="Martha Jones")
    assert out.getvalue() == printed + "\n"
    blocks = printed.split("\n\n")
    assert blocks == [
        "[private to Martha Jones]\nKudos sent to @Jim Park and @Cara Diaz for #empathy. "
        "You have 3 of 5 kudos left today.",
        "[team channel: Blue]\n@Martha Jones gave kudos to @Jim Park for #empathy: great save",
        "[#floor]\n@Martha Jones gave kudos to @Cara Diaz for #empathy: great save",
        "[DM to Jim Park]\n@Martha Jones gave you kudos for #empathy: great save (+5 pts)",
        "[DM to Cara Diaz]\n@Martha Jones gave you kudos for #empathy: great save (+5 pts)",
    ]


def test_leaderboard_renders_as_aligned_text(app: Floorboard) -> None:
    seed(app)
    printed = adapter(app).say("/leaderboard csat day", as_name="Dan Fox")
    public, private = printed.split("\n\n")
    assert public.splitlines() == [
        "[#floor] CSAT leaderboard, day 2021-04-01",
        "#  Agent         CSAT  Surveys",
        "1  Martha Jones  5.00       10",
        "2  Jim Park      4.90       10",
        "3  Ann Lee       4.80       10",
        "4  Ben Cole      4.70       10",
        "Top 4 of 8 ranked, as of 2021-04-01 12:00 UTC.",
    ]
    assert private.splitlines() == [
        "[private to Dan Fox] Your CSAT rank, day 2021-04-01",
        "You are 6th of 8: CSAT 4.50 over 10 surveys.",
    ]


def test_as_name_links_a_console_identity_on_first_use(app: Floorboard) -> None:
    ids = seed(app)
    console = adapter(app)
    actor = console.actor("jim park")
    assert actor.person_id == ids["Jim Park"] and actor.display_name == "Jim Park"
    with app.engine.connect() as connection:
        keys = connection.execute(
            select(Identity.kind, Identity.namespace, Identity.key, Identity.person_id)
        ).all()
    assert ("console", "console", "jim park", ids["Jim Park"]) in keys
    assert console.actor("Jim Park").person_id == ids["Jim Park"]
    with app.engine.connect() as connection:
        count = connection.scalar(
            select(func.count()).select_from(Identity).where(Identity.kind == "console")
        )
    assert count == 1
    sup = console.actor("Sam Reed")
    assert sup.supervised_team_ids and "supervisor" in {r.value for r in sup.roles}


def test_unknown_or_ambiguous_caller_is_told_how_to_link(app: Floorboard) -> None:
    seed(app)
    [reply] = say(app, "Nobody Here", "/points")
    assert reply.destination.kind is DestinationKind.CALLER
    assert "No one called Nobody Here is on the roster. Use --as" in render_segments(reply.segments)
    _add_person(app, "Jim Park")
    printed = adapter(app).say("/points", as_name="Jim Park")
    assert printed == (
        "[private to Jim Park]\n2 people are called Jim Park, so I can't tell who you are. "
        "An admin can give each a console identity (the name to use with --as)."
    )


def test_mentions_by_first_name_full_name_and_ambiguity(app: Floorboard) -> None:
    ids = seed(app)
    _add_person(app, "Ann Other")
    [reply] = say(app, "Martha Jones", "/kudos @Ann thanks")
    message = render_segments(reply.segments)
    assert "@Ann could be Ann Lee, Ann Other" in message and 'e.g. @"Ann Lee"' in message
    replies = say(app, "Martha Jones", '/kudos @"ann lee" thanks')
    assert replies[-1].destination.person_id == ids["Ann Lee"]
    with app.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Kudos)) == 1


def test_identical_lines_are_two_deliveries_unless_the_id_repeats(app: Floorboard) -> None:
    seed(app)
    console = adapter(app)
    console.say("/kudos @Jim thanks", as_name="Martha Jones")
    console.say("/kudos @Jim thanks", as_name="Martha Jones")
    console.say("/kudos @Jim thanks", as_name="Martha Jones", delivery_id="fixed")
    again = console.say("/kudos @Jim thanks", as_name="Martha Jones", delivery_id="fixed")
    assert again.startswith("[private to Martha Jones]\nAlready done")
    with app.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Kudos)) == 3


def test_segments_render_as_plain_text() -> None:
    segments = (
        Text("Hello "),
        Mention(1, "Martha"),
        Text(", "),
        UserText("<!channel> @everyone"),
        Table(("Name", "Score"), (("Al", "1.00"), ("Bea", "10.50")), ("left", "right")),
        Fields((("Balance", "3.00 pts"),)),
        Image("chart.png", b"12345", "weekly chart"),
    )
    assert render_segments(segments) == (
        "Hello @Martha, <!channel> @everyone\n"
        "Name  Score\n"
        "Al     1.00\n"
        "Bea   10.50\n"
        "Balance: 3.00 pts\n"
        "[image: weekly chart (chart.png, 5 bytes)]"
    )


def test_render_titles_and_buttons(app: Floorboard) -> None:
    console = adapter(app)
    message = Message(
        CALLER, (Text("Pick one"),), title="Choose", actions=(Action("Join", "challenge", {"id": 1}),)
    )
    assert (
        console.render(message, caller="Jim")
        == "[private to Jim] Choose\nPick one\n[button: Join → /challenge]"
    )


async def test_console_is_a_notifier(app: Floorboard) -> None:
    ids = seed(app)
    out = io.StringIO()
    console: Notifier = ConsoleAdapter(adapter(app).ctx, adapter(app).registry, out)
    first = await console.post("blue", Message(Destination(DestinationKind.ORIGIN), (Text("Standings"),)))
    second = await console.dm(ids["Jim Park"], Message(CALLER, (Text("Badge!"),), title="Congrats"))
    third = await console.upload("blue", "week.png", b"abc", "Weekly chart")
    assert len({first, second, third}) == 3
    assert out.getvalue() == (
        "[#blue]\nStandings\n\n"
        "[DM to Jim Park] Congrats\nBadge!\n\n"
        "[#blue]\n[file: Weekly chart (week.png, 3 bytes)]\n\n"
    )
