"""`/kudos`: rules (self, allowance, reason, value tag, unknown people), replays, ledger points, replies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from bot.app import Floorboard
from bot.feeds.records import KpiRecord, SubjectRef
from bot.handlers.contract import DestinationKind, Mention, Text, UserText
from bot.store.models import Delivery, Kudos, PointsEntry
from tests.unit.test_handlers_world import DAY, RATINGS, ratings_records, say, seed, text


def _counts(app: Floorboard) -> tuple[int, int, int]:
    with app.engine.connect() as connection:
        kudos = connection.scalar(select(func.count()).select_from(Kudos))
        points = connection.scalar(
            select(func.count()).select_from(PointsEntry).where(PointsEntry.rule == "kudos")
        )
        deliveries = connection.scalar(select(func.count()).select_from(Delivery))
    return int(kudos or 0), int(points or 0), int(deliveries or 0)


def test_kudos_writes_a_row_and_points_per_recipient_with_all_replies(any_app: Floorboard) -> None:
    ids = seed(any_app)
    replies = say(any_app, "Martha Jones", '/kudos @Jim @"Cara Diaz" great save on a hard call #empathy')
    kinds = [(m.destination.kind, m.destination.team_id, m.destination.person_id) for m in replies]
    blue = replies[1].destination.team_id
    assert kinds == [
        (DestinationKind.CALLER, None, None),
        (DestinationKind.TEAM_CHANNEL, blue, None),  # Jim's team Blue has a channel
        (DestinationKind.ORIGIN, None, None),  # Cara's team Red has none
        (DestinationKind.DM, None, ids["Jim Park"]),
        (DestinationKind.DM, None, ids["Cara Diaz"]),
    ]
    assert (
        text(replies[0])
        == "Kudos sent to @Jim Park and @Cara Diaz for #empathy. You have 3 of 5 kudos left today."
    )
    assert text(replies[1]) == "@Martha Jones gave kudos to @Jim Park for #empathy: great save on a hard call"
    assert text(replies[3]) == "@Martha Jones gave you kudos for #empathy: great save on a hard call (+5 pts)"
    with any_app.engine.connect() as connection:
        rows = connection.execute(select(Kudos).order_by(Kudos.receiver_id)).all()
        ledger = connection.execute(select(PointsEntry).where(PointsEntry.rule == "kudos")).all()
    assert {(r.giver_id, r.receiver_id, r.reason, r.value_tag, r.business_day) for r in rows} == {
        (ids["Martha Jones"], ids["Jim Park"], "great save on a hard call", "empathy", DAY),
        (ids["Martha Jones"], ids["Cara Diaz"], "great save on a hard call", "empathy", DAY),
    }
    assert len({r.delivery_key for r in rows}) == 1
    by_kudos = {r.id: r.receiver_id for r in rows}
    assert sorted((e.person_id, e.amount, e.template, e.entry) for e in ledger) == sorted(
        (pid, 500, "points.kudos", "award") for pid in (ids["Jim Park"], ids["Cara Diaz"])
    )
    for entry in ledger:
        assert entry.idempotency_key == f"kudos:{entry.inputs['kudos_id']}"
        assert by_kudos[entry.inputs["kudos_id"]] == entry.person_id
        assert entry.inputs["giver"] == ids["Martha Jones"]
        assert entry.inputs["reason"] == "great save on a hard call"
        assert entry.business_day == DAY


def test_reason_with_broadcasts_stays_user_text(app: Floorboard) -> None:
    seed(app)
    replies = say(app, "Martha Jones", "/kudos @Jim thanks <!channel> @everyone for the cover")
    post = replies[1]
    user_texts = [s for s in post.segments if isinstance(s, UserText)]
    assert user_texts == [UserText("thanks <!channel> @everyone for the cover")]
    assert not any(
        isinstance(s, Text) and ("<!channel>" in s.text or "@everyone" in s.text) for s in post.segments
    )
    assert any(isinstance(s, Mention) and s.display_name == "Martha Jones" for s in post.segments)
    for message in replies[1:]:
        assert not any(isinstance(s, Text) and "<!channel>" in s.text for s in message.segments)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/kudos @Martha nice one", "You can't give kudos to yourself"),
        ("/kudos @Jim @Martha nice one", "You can't give kudos to yourself"),
        ("/kudos @Jim", "Missing"),
        ("/kudos @Jim #empathy", "Kudos need a reason"),
        ("/kudos @Jim @Ann", "Missing"),
        ("/kudos @Jim good call #bravery", "#bravery is not one of this program's values"),
        ("/kudos @Zed nice one", "I don't know anyone called @Zed"),
        ("/kudos @Jim @Zed nice one", "I don't know anyone called @Zed"),
        ("/kudos nice one @Jim", "expected one or more @people"),
    ],
)
def test_refusals_write_nothing(app: Floorboard, line: str, expected: str) -> None:
    seed(app)
    replies = say(app, "Martha Jones", line)
    assert [m.destination.kind for m in replies] == [DestinationKind.CALLER]
    assert expected in text(replies[0])
    assert _counts(app) == (0, 0, 0)


def test_value_tag_error_lists_the_values_and_is_case_insensitive(app: Floorboard) -> None:
    seed(app)
    [reply] = say(app, "Martha Jones", "/kudos @Jim good call #bravery")
    assert "#empathy, #ownership, #teamwork, #curiosity" in text(reply)
    replies = say(app, "Martha Jones", "/kudos @Jim good call #Ownership")
    assert "for #ownership" in text(replies[0])
    with app.engine.connect() as connection:
        assert connection.scalar(select(Kudos.value_tag)) == "ownership"


def test_daily_allowance_counts_each_recipient(any_app: Floorboard) -> None:
    seed(any_app)
    allowance = any_app.program.kudos.daily_allowance
    assert allowance == 5
    say(any_app, "Martha Jones", "/kudos @Jim @Ann @Ben thanks")
    say(any_app, "Martha Jones", "/kudos @Cara thanks")
    [refused] = say(any_app, "Martha Jones", "/kudos @Dan @Eve thanks")
    assert text(refused) == (
        "You have 1 kudos left today (allowance 5, used 4), not enough for 2. Nothing was sent."
    )
    assert _counts(any_app)[0] == 4
    replies = say(any_app, "Martha Jones", "/kudos @Dan thanks")
    assert "You have 0 of 5 kudos left today" in text(replies[0])
    [refused] = say(any_app, "Martha Jones", "/kudos @Eve thanks")
    assert "You have 0 kudos left today" in text(refused)
    assert "Kudos sent" in text(say(any_app, "Jim Park", "/kudos @Eve thanks")[0])


def test_replayed_delivery_applies_once_and_says_so(any_app: Floorboard) -> None:
    ids = seed(any_app)
    first = say(any_app, "Martha Jones", "/kudos @Jim thanks", delivery_id="evt-1")
    assert "Kudos sent" in text(first[0])
    again = say(any_app, "Martha Jones", "/kudos @Jim thanks", delivery_id="evt-1")
    assert [m.destination.kind for m in again] == [DestinationKind.CALLER]
    assert "Already done" in text(again[0])
    assert _counts(any_app) == (1, 1, 1)
    say(any_app, "Martha Jones", "/kudos @Jim thanks")
    assert _counts(any_app) == (2, 2, 2)
    with any_app.engine.connect() as connection:
        total = connection.scalar(
            select(func.sum(PointsEntry.amount)).where(
                PointsEntry.person_id == ids["Jim Park"], PointsEntry.rule == "kudos"
            )
        )
    assert total == 1000


def test_a_refused_delivery_is_not_claimed(app: Floorboard) -> None:
    seed(app)
    say(app, "Martha Jones", "/kudos @Jim #empathy", delivery_id="evt-2")
    assert _counts(app) == (0, 0, 0)
    assert "Kudos sent" in text(say(app, "Martha Jones", "/kudos @Jim thanks", delivery_id="evt-2")[0])


def test_kudos_points_show_in_points_and_why(app: Floorboard) -> None:
    ids = seed(app)
    say(app, "Martha Jones", "/kudos @Jim covered my queue #teamwork")
    [why] = say(app, "Jim Park", "/points why")
    lines = text(why).splitlines()
    assert "+5.00 pts: kudos from Martha Jones (#teamwork): covered my queue: 5 pts" in lines
    assert any(isinstance(s, UserText) and "covered my queue" in s.text for s in why.segments)
    assert ids


def test_rescoring_a_day_keeps_kudos_points(app: Floorboard) -> None:
    ids = seed(app)
    say(app, "Martha Jones", "/kudos @Jim thanks")
    extra = KpiRecord(
        "test",
        "late-call",
        SubjectRef("agent", "Jim Park"),
        ratings_records({"x": [5]})[0].occurred_at,
        facts={"answered": True, "rating": 5},
    )
    app.ingest([[extra]], source="test", origin="test", create_unknown=True)
    with app.engine.connect() as connection:
        total = connection.scalar(
            select(func.sum(PointsEntry.amount)).where(
                PointsEntry.person_id == ids["Jim Park"], PointsEntry.rule == "kudos"
            )
        )
    assert total == 500


def test_concurrent_kudos_never_exceed_the_allowance(any_app: Floorboard) -> None:
    seed(any_app)
    receivers = ["Jim", "Ann", "Ben", "Cara", "Dan", "Eve", "Finn", "Ivy"]

    def give(name: str) -> str:
        return text(say(any_app, "Martha Jones", f"/kudos @{name} thanks")[0])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(give, receivers))
    sent = [r for r in results if r.startswith("Kudos sent")]
    refused = [r for r in results if "Nothing was sent" in r]
    assert len(sent) == any_app.program.kudos.daily_allowance == 5
    assert len(refused) == 3
    assert _counts(any_app) == (5, 5, 5)


def test_concurrent_replays_of_one_delivery_apply_once(any_app: Floorboard) -> None:
    seed(any_app)
    say(any_app, "Martha Jones", "/points")  # links the console identity before the race

    def give(_: int) -> str:
        return text(say(any_app, "Martha Jones", "/kudos @Jim thanks", delivery_id="same-event")[0])

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(give, range(6)))
    assert sum(r.startswith("Kudos sent") for r in results) == 1
    assert sum(r.startswith("Already done") for r in results) == 5
    assert _counts(any_app) == (1, 1, 1)


def test_a_reason_over_500_characters_is_refused_privately(app: Floorboard) -> None:
    seed(app)
    replies = say(app, "Martha Jones", "/kudos @Jim " + "thanks " * 714 + "#empathy")
    assert [m.destination.kind for m in replies] == [DestinationKind.CALLER]
    assert text(replies[0]) == (
        "Your reason is 4997 characters long; kudos reasons can be at most 500. Shorten it and send again. "
        "Nothing was sent."
    )
    assert _counts(app) == (0, 0, 0)
    reason = "x" * 499 + "!"
    replies = say(app, "Martha Jones", f"/kudos @Jim {reason}")
    assert "Kudos sent to @Jim Park" in text(replies[0])
    with app.engine.connect() as connection:
        assert connection.scalar(select(Kudos.reason)) == reason


def test_an_unquoted_full_name_is_one_recipient(app: Floorboard) -> None:
    ids = seed(app)
    replies = say(app, "Jim Park", "/kudos @Martha Jones thanks for the cover")
    assert text(replies[0]).startswith("Kudos sent to @Martha Jones.")
    assert text(replies[1]) == "@Jim Park gave kudos to @Martha Jones: thanks for the cover"
    replies = say(app, "Jim Park", "/kudos @Ann Lee, @Ben Cole Great save")
    assert text(replies[0]).startswith("Kudos sent to @Ann Lee and @Ben Cole.")
    say(app, "Jim Park", "/kudos @Cara Great save")  # not a full name: Cara, reason "Great save"
    with app.engine.connect() as connection:
        rows = connection.execute(select(Kudos.receiver_id, Kudos.reason).order_by(Kudos.id)).all()
    assert [tuple(row) for row in rows] == [
        (ids["Martha Jones"], "thanks for the cover"),
        (ids["Ann Lee"], "Great save"),
        (ids["Ben Cole"], "Great save"),
        (ids["Cara Diaz"], "Great save"),
    ]


def test_a_full_name_decides_between_two_people_sharing_a_first_name(app: Floorboard) -> None:
    ids = seed(app, {**RATINGS, "Jim Hale": [5] * 5})
    [refused] = say(app, "Martha Jones", "/kudos @Jim thanks")
    assert "@Jim could be Jim Hale, Jim Park" in text(refused)
    say(app, "Martha Jones", "/kudos @Jim Hale thanks")
    # "Jim Park" is not typed as such (lower case): @Jim stays ambiguous and nothing is sent.
    [refused] = say(app, "Martha Jones", "/kudos @Jim park thanks")
    assert "@Jim could be" in text(refused)
    with app.engine.connect() as connection:
        rows = connection.execute(select(Kudos.receiver_id, Kudos.reason)).all()
    assert [tuple(row) for row in rows] == [(ids["Jim Hale"], "thanks")]
