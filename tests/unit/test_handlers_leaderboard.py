"""`/leaderboard`: the public top within the visibility rule, the caller's own rank privately, full boards."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import insert, select

from bot.app import Floorboard
from bot.handlers.contract import DestinationKind, Table
from bot.program import default_program_text
from bot.scoring.periods import Period
from bot.services.leaderboard import board
from bot.store.models import Supervision, Team, TeamMembership
from tests.conftest import make_app
from tests.unit.test_handlers_world import (
    ADMIN,
    DAY,
    RATINGS,
    SUPERVISOR,
    mean,
    only,
    ratings_records,
    say,
    seed,
    text,
)

RANKED = sorted((name for name, values in RATINGS.items() if len(values) >= 5), key=mean, reverse=True)


def _table(message: object) -> Table:
    return next(segment for segment in message.segments if isinstance(segment, Table))  # type: ignore[attr-defined]


def test_public_board_shows_at_most_half_of_the_ranked_agents(any_app: Floorboard) -> None:
    seed(any_app)
    replies = say(any_app, "Finn Hart", "/leaderboard csat day")
    [public] = only(replies, DestinationKind.ORIGIN)
    rows = _table(public).rows
    assert len(rows) == min(5, len(RANKED) // 2) == 4
    assert [row[1] for row in rows] == RANKED[:4]
    assert [row[0] for row in rows] == ["1", "2", "3", "4"]
    assert rows[0][2] == f"{mean(RANKED[0]):.2f}" and rows[0][3] == "10"
    assert "as of 2021-04-01 12:00 UTC" in text(public)
    assert public.title == "CSAT leaderboard, day 2021-04-01"


def test_three_agents_show_one_and_one_agent_shows_none(tmp_path: Path) -> None:
    three = {name: RATINGS[name] for name in ("Ann Lee", "Ben Cole", "Cara Diaz")}
    app = make_app(f"sqlite:///{tmp_path / 'three.db'}")
    try:
        seed(app, three)
        [public] = only(say(app, "Cara Diaz", "/leaderboard csat"), DestinationKind.ORIGIN)
        assert [row[1] for row in _table(public).rows] == ["Ann Lee"]
    finally:
        app.close()
    app = make_app(f"sqlite:///{tmp_path / 'one.db'}")
    try:
        seed(app, {"Ann Lee": RATINGS["Ann Lee"]})
        replies = say(app, "Ann Lee", "/leaderboard csat")
        assert not only(replies, DestinationKind.ORIGIN)
        [mine] = only(replies, DestinationKind.CALLER)
        assert "You are 1st of 1" in text(mine)
        assert "Nothing was posted publicly" in text(mine)
    finally:
        app.close()


def test_public_size_from_the_program_caps_the_board(tmp_path: Path) -> None:
    program = tmp_path / "program.yaml"
    program.write_text(default_program_text().replace("public_size: 5", "public_size: 2"), encoding="utf-8")
    app = make_app(f"sqlite:///{tmp_path / 'p.db'}", program_file=program)
    try:
        seed(app)
        [public] = only(say(app, "Jim Park", "/leaderboard csat"), DestinationKind.ORIGIN)
        assert [row[1] for row in _table(public).rows] == RANKED[:2]
    finally:
        app.close()


def test_caller_gets_their_own_rank_privately(app: Floorboard) -> None:
    seed(app)
    caller = RANKED[5]
    [mine] = only(say(app, caller, "/leaderboard csat month"), DestinationKind.CALLER)
    assert text(mine) == f"You are 6th of 8: CSAT {mean(caller):.2f} over 10 surveys."
    assert mine.title == "Your CSAT rank, month 2021-04-01 to 2021-04-30"


def test_opted_out_agents_leave_no_gap_but_still_see_their_true_rank(any_app: Floorboard) -> None:
    seed(any_app)
    second = RANKED[1]
    assert "no longer show you" in text(say(any_app, second, "/floorboard optout")[0])
    replies = say(any_app, second, "/leaderboard csat")
    [public] = only(replies, DestinationKind.ORIGIN)
    rows = _table(public).rows
    assert [(row[0], row[1]) for row in rows] == [("1", RANKED[0]), ("2", RANKED[2]), ("3", RANKED[3])]
    assert second not in text(public)
    assert "Top 3 of 7 ranked" in text(public)
    [mine] = only(replies, DestinationKind.CALLER)
    assert f"You are 2nd of 8: CSAT {mean(second):.2f} over 10 surveys." in text(mine)
    assert "hidden from public boards" in text(mine)
    say(any_app, second, "/floorboard optin")
    [public] = only(say(any_app, second, "/leaderboard csat"), DestinationKind.ORIGIN)
    assert [row[1] for row in _table(public).rows] == RANKED[:4]


def test_below_min_samples_is_unranked_with_value_and_count(app: Floorboard) -> None:
    seed(app)
    ivy = RATINGS["Ivy Moss"]
    replies = say(app, "Ivy Moss", "/leaderboard csat")
    [mine] = only(replies, DestinationKind.CALLER)
    assert text(mine) == (
        f"You are not ranked yet: CSAT {sum(ivy) / len(ivy):.2f} over {len(ivy)} surveys; "
        "5 surveys are needed to rank."
    )
    [public] = only(replies, DestinationKind.ORIGIN)
    assert "Ivy Moss" not in text(public)


def test_no_data_and_historical_boards(app: Floorboard) -> None:
    seed(app)
    march = {"Ann Lee": [3] * 6, "Ben Cole": [4] * 6, "Cara Diaz": [5] * 6, "Dan Fox": [2] * 6}
    app.ingest(
        [ratings_records(march, day=date(2021, 3, 10), prefix="m")],
        source="test",
        origin="test",
        create_unknown=True,
    )
    replies = say(app, "Dan Fox", "/leaderboard csat month 2021-03-15")
    [public] = only(replies, DestinationKind.ORIGIN)
    assert public.title == "CSAT leaderboard, month 2021-03-01 to 2021-03-31"
    assert [row[1] for row in _table(public).rows] == ["Cara Diaz", "Ben Cole"]
    [mine] = only(replies, DestinationKind.CALLER)
    assert text(mine) == "You are 4th of 4: CSAT 2.00 over 6 surveys."
    [mine] = only(say(app, "Dan Fox", "/leaderboard csat week 2021-03-02"), DestinationKind.CALLER)
    assert text(mine) == (
        "You have no CSAT data for week 2021-03-01 to 2021-03-07.\n"
        "Nothing was posted publicly: with 0 ranked, a public board would show the bottom of the table."
    )


def test_team_board_ranks_only_members(app: Floorboard) -> None:
    seed(app)
    [public] = only(say(app, "Dan Fox", "/leaderboard csat red"), DestinationKind.ORIGIN)
    red = sorted(("Cara Diaz", "Dan Fox", "Finn Hart", "Eve Gray"), key=mean, reverse=True)
    assert [row[1] for row in _table(public).rows] == red[:2]
    assert public.title == "CSAT leaderboard, team red, week 2021-03-29 to 2021-04-04"


def test_full_board_for_admins_supervisors_only_their_teams_and_never_agents(app: Floorboard) -> None:
    ids = seed(app)
    say(app, RANKED[7], "/floorboard optout")
    full = only(say(app, ADMIN, "/leaderboard csat full"), DestinationKind.CALLER)[-1]
    rows = _table(full).rows
    assert [row[1] for row in rows] == [*RANKED, "Ivy Moss"]
    assert rows[7][4] == "opted out of public boards"
    assert rows[8][0] == "–" and rows[8][4] == "not ranked: needs 5 surveys"
    full = only(say(app, SUPERVISOR, "/leaderboard csat full"), DestinationKind.CALLER)[-1]
    blue_this_week = {"Martha Jones", "Jim Park", "Ann Lee", "Ben Cole"}
    assert {row[1] for row in _table(full).rows} == blue_this_week
    assert [row[0] for row in _table(full).rows] == [
        str(RANKED.index(n) + 1) for n in RANKED if n in blue_this_week
    ]
    march = only(say(app, SUPERVISOR, "/leaderboard csat month 2021-03-01 full"), DestinationKind.CALLER)[-1]
    assert march.title and "Full CSAT board" in march.title
    refused = say(app, "Jim Park", "/leaderboard csat full")
    assert [m.destination.kind for m in refused] == [DestinationKind.CALLER]
    assert "Only supervisors and admins can see the full board" in text(refused[0])
    assert ids


def _expected_points(ratings: list[int]) -> float:
    """csat-day [[3.5, 0], [4.2, 10], [4.8, 20]] from 5 surveys; handled-day [[0, 0], [40, 10], [80, 15]]."""
    average = sum(ratings) / len(ratings)
    csat = 0.0
    if len(ratings) >= 5:
        csat = 20.0 if average >= 4.8 else 10 + (average - 4.2) / 0.6 * 10
    return round(csat, 2) + round(len(ratings) / 40 * 10, 2)


def test_points_board_and_unit_formats(app: Floorboard) -> None:
    seed(app)
    expected = sorted(((-_expected_points(v), name) for name, v in RATINGS.items()))
    [public] = only(say(app, "Jim Park", "/leaderboard"), DestinationKind.ORIGIN)
    table = _table(public)
    assert table.headers == ("#", "Agent", "Points", "Days")
    assert len(table.rows) == len(RATINGS) // 2
    assert [row[1] for row in table.rows] == [name for _, name in expected[:4]]
    assert [row[2] for row in table.rows] == [f"{-points:.2f}" for points, _ in expected[:4]]
    assert [row[0] for row in table.rows] == ["1", "1", "1", "4"]
    [public] = only(say(app, "Jim Park", "/leaderboard handled day"), DestinationKind.ORIGIN)
    assert _table(public).rows[0][2] == "10"


def test_unknown_words_name_the_token_and_the_choices(app: Floorboard) -> None:
    seed(app)
    [reply] = say(app, "Jim Park", "/leaderboard csat fortnight")
    assert reply.destination.kind is DestinationKind.CALLER
    message = text(reply)
    assert "fortnight" in message
    assert "day, week, month, quarter, all" in message
    assert "blue, red" in message
    [reply] = say(app, "Jim Park", "/leaderboard speed")
    assert "speed" in text(reply) and "csat" in text(reply) and "points" in text(reply)


def test_when_the_leader_opts_out_the_public_board_starts_at_1(any_app: Floorboard) -> None:
    seed(any_app)
    leader = RANKED[0]
    say(any_app, leader, "/floorboard optout")

    replies = say(any_app, RANKED[1], "/leaderboard csat")

    [public] = only(replies, DestinationKind.ORIGIN)
    assert [(row[0], row[1]) for row in _table(public).rows] == [
        ("1", RANKED[1]),
        ("2", RANKED[2]),
        ("3", RANKED[3]),
    ]
    [mine] = only(replies, DestinationKind.CALLER)
    assert text(mine) == f"You are 2nd of 8: CSAT {mean(RANKED[1]):.2f} over 10 surveys."
    [mine] = only(say(any_app, leader, "/leaderboard csat"), DestinationKind.CALLER)
    assert text(mine).startswith(f"You are 1st of 8: CSAT {mean(leader):.2f} over 10 surveys.")


def test_public_ranks_among_visible_agents_share_ties(app: Floorboard) -> None:
    seed(app)
    expected = sorted((-_expected_points(v), name) for name, v in RATINGS.items())
    tied = [name for points, name in expected if points == expected[0][0]]
    assert len(tied) == 3  # the true board is 1, 1, 1, 4, …
    say(app, tied[0], "/floorboard optout")

    [public] = only(say(app, "Jim Park", "/leaderboard"), DestinationKind.ORIGIN)

    visible = [(points, name) for points, name in expected if name != tied[0]]
    rows = _table(public).rows
    assert len(visible) == 8 and len(rows) == 4  # ⌊8 / 2⌋ places
    assert [row[1] for row in rows] == [name for _, name in visible[:4]]
    assert [row[0] for row in rows] == ["1", "1", "3", "4"]
    full = only(say(app, ADMIN, "/leaderboard full"), DestinationKind.CALLER)[-1]
    assert [row[0] for row in _table(full).rows][:4] == ["1", "1", "1", "4"]
    assert _table(full).rows[[row[1] for row in _table(full).rows].index(tied[0])][4] == (
        "opted out of public boards"
    )


def test_supervisors_full_board_keeps_true_ranks_of_opted_out_agents(app: Floorboard) -> None:
    seed(app)
    say(app, "Martha Jones", "/floorboard optout")

    full = only(say(app, SUPERVISOR, "/leaderboard csat full"), DestinationKind.CALLER)[-1]

    blue = [name for name in RANKED if name in {"Martha Jones", "Jim Park", "Ann Lee", "Ben Cole"}]
    assert [(row[0], row[1], row[4]) for row in _table(full).rows] == [
        (str(RANKED.index(name) + 1), name, "opted out of public boards" if name == "Martha Jones" else "")
        for name in blue
    ]


def test_a_queue_metric_is_refused_on_chat_with_the_way_to_the_figure(app: Floorboard) -> None:
    seed(app)

    [reply] = say(app, "Jim Park", "/leaderboard abandon_rate")

    assert reply.destination.kind is DestinationKind.CALLER
    assert text(reply) == (
        "Abandon rate is measured on queues, not on agents (agents take only answered contacts), so there "
        "is no agent ranking for it. The center-wide figure: floorboard leaderboard --metric abandon_rate"
    )


def test_too_few_visible_agents_post_nothing_and_say_why(tmp_path: Path) -> None:
    four = {name: RATINGS[name] for name in ("Ann Lee", "Ben Cole", "Cara Diaz", "Dan Fox")}
    app = make_app(f"sqlite:///{tmp_path / 'four.db'}")
    try:
        seed(app, four)
        for name in ("Ann Lee", "Ben Cole", "Cara Diaz"):
            say(app, name, "/floorboard optout")
        replies = say(app, "Dan Fox", "/leaderboard csat")
        assert not only(replies, DestinationKind.ORIGIN)
        [mine] = only(replies, DestinationKind.CALLER)
        assert text(mine) == (
            f"You are 4th of 4: CSAT {mean('Dan Fox'):.2f} over 10 surveys.\n"
            "Nothing was posted publicly: too few of the 4 ranked agents are shown on public boards to post "
            "a top without its bottom."
        )
    finally:
        app.close()


def _full_rows(app: Floorboard, name: str, line: str) -> list[tuple[str, ...]]:
    return list(_table(only(say(app, name, line), DestinationKind.CALLER)[-1]).rows)


def _ingest_march_around_the_move(app: Floorboard) -> None:
    """Eve Gray moved Blue -> Red on 2021-03-15: 5s on the 10th (Blue), 3s on the 20th (Red)."""
    for day, ratings, prefix in (
        (date(2021, 3, 10), {"Eve Gray": [5] * 6, "Ann Lee": [4] * 6}, "a"),
        (date(2021, 3, 20), {"Eve Gray": [3] * 6, "Cara Diaz": [4] * 6}, "b"),
    ):
        app.ingest(
            [ratings_records(ratings, day=day, prefix=prefix)],
            source="test",
            origin="test",
            create_unknown=True,
        )


def test_supervisors_full_board_counts_only_the_days_in_her_teams(app: Floorboard) -> None:
    seed(app)
    _ingest_march_around_the_move(app)

    replies = say(app, SUPERVISOR, "/leaderboard csat month 2021-03-15 full")

    full = replies[-1]
    assert full.title == "Full CSAT board (private), month 2021-03-01 to 2021-03-31"
    assert [row[:4] for row in _table(full).rows] == [
        ("1", "Eve Gray", "5.00", "6"),
        ("2", "Ann Lee", "4.00", "6"),
    ]
    assert text(full).endswith(
        "2 ranked in team blue, as of 2021-04-01 12:00 UTC. Each agent's figures and rank count only the "
        "days they were in a team you supervise."
    )
    team_board = _full_rows(app, SUPERVISOR, "/leaderboard csat month blue 2021-03-15 full")
    assert [row[:4] for row in team_board] == [("1", "Eve Gray", "5.00", "6"), ("2", "Ann Lee", "4.00", "6")]
    # Admins keep the whole board: Eve's whole month, 4.00 over 12, tied with Ann and Cara.
    assert [row[:4] for row in _full_rows(app, ADMIN, "/leaderboard csat month 2021-03-15 full")] == [
        ("1", "Ann Lee", "4.00", "6"),
        ("1", "Cara Diaz", "4.00", "6"),
        ("1", "Eve Gray", "4.00", "12"),
    ]


def test_a_supervisor_of_two_teams_gets_the_union_of_their_days_counted_once(app: Floorboard) -> None:
    ids = seed(app)
    _ingest_march_around_the_move(app)
    with app.engine.begin() as connection:
        red = connection.scalar(select(Team.id).where(Team.key == "red"))
        connection.execute(insert(Supervision).values(supervisor_id=ids[SUPERVISOR], team_id=red))
        # An overlapping membership: Eve also in Red on the 10th must not count that day twice.
        connection.execute(
            insert(TeamMembership).values(
                person_id=ids["Eve Gray"],
                team_id=red,
                valid_from=date(2021, 3, 1),
                valid_to=date(2021, 3, 15),
            )
        )

    rows = _full_rows(app, SUPERVISOR, "/leaderboard csat month 2021-03-15 full")

    assert [row[:4] for row in rows] == [
        ("1", "Ann Lee", "4.00", "6"),
        ("1", "Cara Diaz", "4.00", "6"),
        ("1", "Eve Gray", "4.00", "12"),
    ]


def test_full_board_of_a_team_she_does_not_supervise_is_refused_and_nothing_is_posted(
    app: Floorboard,
) -> None:
    seed(app)

    replies = say(app, SUPERVISOR, "/leaderboard csat day red full")

    assert [m.destination.kind for m in replies] == [DestinationKind.CALLER]
    assert text(replies[0]) == (
        "You do not supervise team red, so you cannot see its full board. Nothing was posted; leave out "
        "`full` for the public board and your own rank."
    )
    replies = say(app, SUPERVISOR, "/leaderboard csat day blue full")
    assert [m.destination.kind for m in replies] == [DestinationKind.ORIGIN, DestinationKind.CALLER]
    assert replies[-1].title == "Full CSAT board (private), team blue, day 2021-04-01"
    assert [row[1] for row in _table(replies[-1]).rows] == ["Martha Jones", "Jim Park", "Ann Lee", "Ben Cole"]
    assert len(only(say(app, ADMIN, "/leaderboard csat day red full"), DestinationKind.CALLER)) == 1


def test_supervisors_and_admins_never_rank_even_with_kudos_points(app: Floorboard) -> None:
    ids = seed(app)
    assert "Kudos sent" in text(
        say(app, "Martha Jones", '/kudos @"Sam Reed" @"Ada King" thanks for the cover')[0]
    )
    staff = {SUPERVISOR, ADMIN}

    replies = say(app, "Jim Park", "/leaderboard points day")
    [public] = only(replies, DestinationKind.ORIGIN)
    assert not staff & {row[1] for row in _table(public).rows}
    assert "Top 4 of 9 ranked" in text(public)
    full = _full_rows(app, ADMIN, "/leaderboard points day full")
    assert len(full) == 9 and not staff & {row[1] for row in full}
    with app.engine.connect() as connection:
        shown = board(connection, app.program, metric="points", period=Period.DAY, at=DAY)
    assert {entry.person_id for entry in shown.entries}.isdisjoint({ids[SUPERVISOR], ids[ADMIN]})
    assert not any(item.person_id in {ids[SUPERVISOR], ids[ADMIN]} for item in shown.unranked)
    assert len(shown.entries) == 9

    # No own-rank line for callers who are not agents; the public board is still posted.
    replies = say(app, SUPERVISOR, "/leaderboard csat day")
    assert [m.destination.kind for m in replies] == [DestinationKind.ORIGIN]
    replies = say(app, ADMIN, "/leaderboard points day full")
    assert [m.destination.kind for m in replies] == [DestinationKind.ORIGIN, DestinationKind.CALLER]
    assert replies[-1].title == "Full Points board (private), day 2021-04-01"


def test_a_supervisor_hears_why_nothing_was_posted_without_an_own_rank(app: Floorboard) -> None:
    seed(app)

    replies = say(app, SUPERVISOR, "/leaderboard csat day 2021-03-02")

    assert [m.destination.kind for m in replies] == [DestinationKind.CALLER]
    assert replies[0].title == "CSAT leaderboard, day 2021-03-02"
    assert text(replies[0]) == (
        "Nothing was posted publicly: with 0 ranked, a public board would show the bottom of the table."
    )
