"""Challenges on the small floor with a clock that moves: windows close on the teams' clocks, head-to-head
has one winner, a supervisor's challenges stay within their teams, who sees the full standings, what the
results post may show, how names are typed, ending before the start, and team wins without XP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from bot.adapters.console import render_segments
from bot.app import Floorboard, build
from bot.handlers.contract import Table
from bot.jobs.announcements import Announcement
from bot.jobs.challenge_posts import ChallengePosts
from bot.services import challenges
from bot.settings import load_settings
from bot.store.database import upgrade
from bot.store.models import (
    Challenge,
    ChallengeResult,
    CoinEntry,
    Person,
    PointsEntry,
    Supervision,
    Team,
)
from tests.unit.test_handlers_world import (
    ADMIN,
    DAY,
    RATINGS,
    SUPERVISOR,
    mean,
    ratings_records,
    say,
    seed,
    text,
)

DEFAULT_PROGRAM = Path(__file__).parents[2] / "bot" / "programs" / "default.yaml"
NOON = datetime(2021, 4, 1, 12, tzinfo=UTC)
RED_SUPERVISOR = "Rita Vale"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _app(url: str, tmp_path: Path, clock: Clock, extra: str = "") -> Floorboard:
    program = tmp_path / "program.yaml"
    program.write_text(DEFAULT_PROGRAM.read_text(encoding="utf-8") + extra, encoding="utf-8")
    upgrade(url)
    return build(load_settings(database_url=url, program_file=program), clock=clock)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
def floor(sqlite_url: str, tmp_path: Path, clock: Clock) -> Iterator[Floorboard]:
    app = _app(sqlite_url, tmp_path, clock)
    yield app
    app.close()


def _info(app: Floorboard, name: str) -> challenges.ChallengeInfo:
    with app.engine.connect() as connection:
        info = challenges.get(connection, name)
    assert info is not None
    return info


def _end(app: Floorboard, name: str, now: datetime) -> list[challenges.ResultRow]:
    with app.engine.begin() as connection:
        return challenges.end(
            connection, app.program, name, by_id=None, by_name="test", now=now, program_version=app.version
        )


def _paid(app: Floorboard) -> list[tuple[int, int]]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            select(PointsEntry.person_id, PointsEntry.amount).where(PointsEntry.rule == "challenge")
        ).all()
    return sorted((int(pid), int(amount)) for pid, amount in rows)


def _add_supervisor(app: Floorboard, name: str, team: str | None) -> None:
    """A supervisor of `team` (None: of no team)."""
    with app.engine.begin() as connection:
        person = connection.execute(
            insert(Person)
            .values(
                display_name=name,
                role="supervisor",
                skills=[],
                attributes={},
                public_boards=True,
                created_at=NOON,
            )
            .returning(Person.id)
        ).scalar_one()
        if team is not None:
            team_id = connection.scalar(select(Team.id).where(Team.key == team))
            connection.execute(insert(Supervision).values(supervisor_id=person, team_id=team_id))


# --- 5. the window is whole business days on the teams' clocks --------------------------------------


def test_a_window_closes_on_the_teams_clock_not_the_programs(floor: Floorboard, clock: Clock) -> None:
    """Blue works in Los Angeles (UTC-7 in April) while the program runs on UTC."""
    app = floor
    ids = seed(app)
    with app.engine.begin() as connection:
        connection.execute(update(Team).where(Team.key == "blue").values(timezone="America/Los_Angeles"))
    say(app, SUPERVISOR, '/challenge create csat top 1 2021-04-01 2021-04-01 blue points=5 "LA day"')
    say(app, SUPERVISOR, '/challenge create csat top 1 2021-04-01 2021-04-02 blue "LA two days"')
    say(app, ADMIN, '/challenge create csat type=team top 1 2021-04-01 2021-04-01 blue red "Coasts"')

    clock.now = datetime(2021, 4, 2, 3, tzinfo=UTC)  # UTC's April 2, Los Angeles' April 1 at 20:00
    version = app.version
    assert challenges.end_due(app.engine, app.program, now=clock.now, program_version=version) == []
    [status] = say(app, SUPERVISOR, "/challenge status LA day")
    assert status.title == "LA day: standings through 2021-04-01"
    [late] = say(app, SUPERVISOR, '/challenge create csat top 1 2021-04-01 2021-04-01 blue "Last minute"')
    assert text(late).startswith("Last minute: individual challenge on CSAT")  # not "the window ended"
    post, *_ = say(app, SUPERVISOR, "/challenge end LA two days")
    assert post.title == "LA two days: final results (2021-04-01 to 2021-04-01)"  # not through April 2

    clock.now = datetime(2021, 4, 2, 6, 59, tzinfo=UTC)  # 23:59 in Los Angeles
    assert challenges.end_due(app.engine, app.program, now=clock.now, program_version=version) == []
    [refused] = say(app, SUPERVISOR, '/challenge create csat top 1 2021-03-31 2021-03-31 blue "Too late"')
    assert text(refused) == (
        "The window ended on 2021-03-31, before today (2021-04-01); a challenge needs days still to play. "
        "Nothing was created."
    )

    clock.now = datetime(2021, 4, 2, 7, 0, tzinfo=UTC)  # Blue's April 2 begins: its last day is over
    ended = challenges.end_due(app.engine, app.program, now=clock.now, program_version=version)
    assert sorted(info.name for info, _ in ended) == ["Coasts", "LA day", "Last minute"]
    assert _paid(app) == [(ids["Martha Jones"], 500)]


def test_a_multi_team_window_waits_for_the_team_whose_day_ends_last(floor: Floorboard, clock: Clock) -> None:
    app = floor
    seed(app)
    with app.engine.begin() as connection:
        connection.execute(update(Team).where(Team.key == "red").values(timezone="America/Los_Angeles"))
    say(app, ADMIN, '/challenge create csat top 1 2021-04-01 2021-04-01 @Martha @Cara "East meets west"')
    info = _info(app, "East meets west")
    with app.engine.connect() as connection:
        # Martha's Blue is on UTC, Cara's Red on Los Angeles time: the challenge's day is the later team's
        assert (
            challenges.current_day(connection, app.program, info, datetime(2021, 4, 2, 6, tzinfo=UTC)) == DAY
        )
        assert challenges.current_day(connection, app.program, info, datetime(2021, 4, 2, 7, tzinfo=UTC)) == (
            DAY + timedelta(days=1)
        )


# --- 6. head-to-head has one winner, or a declared tie ----------------------------------------------


def test_head_to_head_between_agents_pays_one_winner_even_when_both_reach_the_goal(floor: Floorboard) -> None:
    app = floor
    ids = seed(app)
    assert mean("Martha Jones") == 5.0 and mean("Jim Park") == 4.9  # both reach 4.5
    say(
        app,
        SUPERVISOR,
        "/challenge create csat type=head-to-head absolute 4.5 2021-04-01 2021-04-01 @Martha @Jim points=10 "
        '"Duel"',
    )
    rows = _end(app, "Duel", NOON)
    assert [(r.name, r.rank, r.outcome, r.points) for r in rows] == [
        ("Martha Jones", 1, "won", 1000),
        ("Jim Park", 2, "finished", 0),
    ]
    assert _paid(app) == [(ids["Martha Jones"], 1000)]


def test_head_to_head_between_teams_on_improvement_pays_one_team(floor: Floorboard) -> None:
    app = floor
    ids = seed(app)
    baseline = {name: [3] * 10 for name in RATINGS}  # every agent averaged 3.0 on March 20
    app.ingest(
        [ratings_records(baseline, day=date(2021, 3, 20), prefix="base")],
        source="test",
        origin="test",
        create_unknown=True,
    )
    say(
        app,
        ADMIN,
        "/challenge create csat type=head-to-head improvement 0.5 2021-04-01 2021-04-01 blue red points=10 "
        '"Blue against Red"',
    )
    blue = [r for n in ("Martha Jones", "Jim Park", "Ann Lee", "Ben Cole") for r in RATINGS[n]]
    red = [r for n in ("Cara Diaz", "Dan Fox", "Finn Hart", "Eve Gray") for r in RATINGS[n]]
    assert sum(blue) / len(blue) - 3 > sum(red) / len(red) - 3 >= 0.5  # both improved by the target
    rows = _end(app, "Blue against Red", NOON)
    outcomes = {r.name: (r.rank, r.outcome) for r in rows}
    assert outcomes == {
        **{n: (1, "won") for n in ("Martha Jones", "Jim Park", "Ann Lee", "Ben Cole")},
        **{n: (2, "finished") for n in ("Cara Diaz", "Dan Fox", "Finn Hart", "Eve Gray")},
    }
    assert _paid(app) == sorted((ids[n], 1000) for n in ("Martha Jones", "Jim Park", "Ann Lee", "Ben Cole"))


def test_head_to_head_equal_values_are_a_declared_tie(floor: Floorboard) -> None:
    app = floor
    ids = seed(app, {**RATINGS, "Gus Tate": [5] * 10})  # as good as Martha
    say(
        app,
        ADMIN,
        "/challenge create csat type=head-to-head absolute 4.5 2021-04-01 2021-04-01 @Martha @Gus points=2 "
        '"Even"',
    )
    post, _full, *dms = say(app, ADMIN, "/challenge end Even")
    assert text(post).startswith("A tie: Gus Tate and Martha Jones share the win.")
    assert sorted(m.destination.person_id for m in dms) == sorted([ids["Martha Jones"], ids["Gus Tate"]])
    assert _paid(app) == sorted([(ids["Martha Jones"], 200), (ids["Gus Tate"], 200)])


# --- 7. a supervisor's challenges are for their own teams -------------------------------------------


def test_a_supervisors_league_and_opt_in_challenges_keep_to_their_teams(
    sqlite_url: str, tmp_path: Path, clock: Clock
) -> None:
    app = _app(sqlite_url, tmp_path, clock, "leagues:\n  - {id: floor, role: [agent]}\n")
    ids = seed(app)
    [created] = say(
        app, SUPERVISOR, '/challenge create csat top 1 2021-04-01 2021-04-07 league=floor "Blue floor"'
    )
    assert "; league floor, agents of blue." in text(created)
    say(app, ADMIN, '/challenge create csat top 1 2021-04-01 2021-04-07 league=floor "Whole floor"')
    with app.engine.connect() as connection:
        entrants = {
            name: {
                line.name
                for line in challenges.progress(connection, app.program, _info(app, name), today=DAY).lines
            }
            for name in ("Blue floor", "Whole floor")
        }
    blue = {"Martha Jones", "Jim Park", "Ann Lee", "Ben Cole"}  # Blue's agents this week (Eve moved)
    assert entrants["Blue floor"] == blue
    assert entrants["Whole floor"] == set(RATINGS)  # an admin's league is the whole league

    [opt_in] = say(app, SUPERVISOR, '/challenge create csat top 1 2021-04-01 2021-04-07 opt-in "Blue sprint"')
    assert "opt-in for the agents of blue (/challenge join)" in text(opt_in)
    [refused] = say(app, "Cara Diaz", "/challenge join Blue sprint")
    assert (
        text(refused) == "Blue sprint is for the agents of blue, and you are not in them during its window."
    )
    [joined] = say(app, "Jim Park", "/challenge join Blue sprint")
    assert text(joined).startswith("You joined Blue sprint.")
    with app.engine.connect() as connection:
        joined_ids = {
            line.standing.key
            for line in challenges.progress(
                connection, app.program, _info(app, "Blue sprint"), today=DAY
            ).lines
        }
    assert joined_ids == {ids["Jim Park"]}

    _add_supervisor(app, "Noel Team", None)
    [no_team] = say(
        app, "Noel Team", '/challenge create csat top 1 2021-04-01 2021-04-07 league=floor "Mine"'
    )
    assert text(no_team).startswith("You do not lead a team, so you cannot set a league or opt-in challenge")
    app.close()


# --- 8. who sees the full standings ------------------------------------------------------------------


def test_full_standings_are_for_the_creator_admins_and_supervisors_of_teams_taking_part(
    floor: Floorboard,
) -> None:
    app = floor
    seed(app)
    _add_supervisor(app, RED_SUPERVISOR, "red")
    say(app, ADMIN, '/challenge create csat top 1 2021-04-01 2021-04-07 @Martha @Jim @Ivy "Trio"')

    def names(who: str) -> list[str]:
        [reply] = say(app, who, "/challenge status Trio")
        table = reply.segments[0]
        assert isinstance(table, Table)
        return [row[1] for row in table.rows]

    full = ["Martha Jones", "Jim Park", "Ivy Moss"]  # Ivy has 3 surveys: shown, not ranked
    assert names(ADMIN) == full  # the creator, an admin
    assert names(SUPERVISOR) == full  # Martha and Jim are in Blue, which Sam leads
    # two ranked: the top half a channel would see is Martha alone
    assert names(RED_SUPERVISOR) == [
        "Martha Jones"
    ]  # no team of Rita's takes part: the top, as agents see it
    [rita] = say(app, RED_SUPERVISOR, "/challenge status Trio")
    assert "Ivy" not in text(rita) and text(rita).endswith("2 more not shown.")
    assert names("Ivy Moss") == ["Martha Jones", "Ivy Moss"]  # the top, and her own line


# --- 3. the results post is the public one, whoever ends the challenge -----------------------------


def test_the_results_post_leaves_out_opted_out_agents_from_chat_and_scheduler_alike(
    floor: Floorboard, clock: Clock
) -> None:
    app = floor
    ids = seed(app)
    say(app, "Martha Jones", "/floorboard optout")
    for name in ("By hand", "By scheduler"):
        say(app, SUPERVISOR, f'/challenge create csat top 2 2021-04-01 2021-04-01 blue points=1 "{name}"')
    post, full, *dms = say(app, SUPERVISOR, "/challenge end By hand")
    # Blue by CSAT: Martha (opted out), Jim, Ann, Ben; the top 2 win
    assert text(post).splitlines() == [
        "Winners: Jim Park.",
        "#  Who       Value  Result  Reward",
        "1  Jim Park   4.90  won     1 pts",
    ]
    assert "Martha" in text(full)  # the supervisor's own table has everyone
    assert sorted(m.destination.person_id for m in dms) == sorted([ids["Martha Jones"], ids["Jim Park"]])

    posted: list[Announcement] = []

    def announce(_connection: object, news: Announcement) -> int:
        posted.append(news)
        return 1

    clock.now = NOON + timedelta(days=1)
    with app.engine.connect() as connection:
        teams = challenges.team_ids(connection, app.program, _info(app, "By scheduler"))
    ChallengePosts(app.engine, app.program, app.version).end_due(clock.now, teams, announce)
    [news] = posted
    assert render_segments(news.segments) == text(post)  # one rule for both posts


# --- 9. how a challenge's name is typed -------------------------------------------------------------


def test_a_quoted_string_is_the_name_and_an_unknown_word_is_an_error(floor: Floorboard) -> None:
    app = floor
    seed(app)
    [created] = say(
        app, SUPERVISOR, '/challenge create csat absolute 4 2021-04-01 2021-04-07 team=blue "Blue"'
    )
    assert text(created).startswith(
        "Blue: individual challenge on CSAT, reach 4.00, 2021-04-01 to 2021-04-07; team blue"
    )
    [refused] = say(
        app, SUPERVISOR, "/challenge create csat absolute 4 2021-04-01 2021-04-07 blue Badge hunt"
    )
    assert text(refused).startswith(
        'I don\'t understand hunt here: expected a whole number or the name in quotes ("…"). Usage: '
    )
    [quoted] = say(
        app, SUPERVISOR, '/challenge create csat absolute 4 2021-04-01 2021-04-07 blue "Badge hunt"'
    )
    assert text(quoted).endswith("Reward: glory.\nTrack it with /challenge status Badge hunt.")
    with app.engine.connect() as connection:
        rows = connection.execute(select(Challenge.name, Challenge.scope_ref, Challenge.reward_badge)).all()
    assert sorted(tuple(row) for row in rows) == [("Badge hunt", ["blue"], False), ("Blue", ["blue"], False)]


# --- 10. ending before the window starts -------------------------------------------------------------


def test_ending_before_the_window_starts_is_refused_and_points_to_cancel(floor: Floorboard) -> None:
    app = floor
    seed(app)
    say(app, SUPERVISOR, '/challenge create csat top 1 2021-04-05 2021-04-09 blue "Next week"')
    [refused] = say(app, SUPERVISOR, "/challenge end Next week")
    assert text(refused) == (
        "Next week has not started yet (its first day is 2021-04-05), so there is nothing to end; to call it "
        "off, use /challenge cancel Next week. Nothing was changed."
    )
    assert _info(app, "Next week").status == "open"
    [cancelled] = say(app, SUPERVISOR, "/challenge cancel Next week")
    assert text(cancelled).startswith("Next week is cancelled")


# --- 11. team wins without XP ------------------------------------------------------------------------


def test_team_wins_can_pay_coins_without_feeding_xp(sqlite_url: str, tmp_path: Path, clock: Clock) -> None:
    app = _app(sqlite_url, tmp_path, clock, "challenges:\n  team_wins_feed_xp: false\n")
    ids = seed(app)
    say(
        app,
        ADMIN,
        '/challenge create csat type=team top 1 2021-04-01 2021-04-01 blue red points=10 coins=3 "Cup"',
    )
    say(app, ADMIN, '/challenge create csat top 1 2021-04-01 2021-04-01 @Martha @Jim points=4 "Solo"')
    post, *_ = say(app, ADMIN, "/challenge end Cup")
    assert text(post).startswith("Winners: Blue.")
    say(app, ADMIN, "/challenge end Solo")
    blue = sorted(ids[n] for n in ("Martha Jones", "Jim Park", "Ann Lee", "Ben Cole"))
    with app.engine.connect() as connection:
        cup = _info(app, "Cup").id
        results = connection.execute(
            select(ChallengeResult.person_id, ChallengeResult.points, ChallengeResult.coins).where(
                ChallengeResult.challenge_id == cup, ChallengeResult.outcome == "won"
            )
        ).all()
        coins = connection.execute(
            select(CoinEntry.person_id, CoinEntry.amount).where(CoinEntry.kind == "challenge")
        ).all()
    assert sorted(tuple(row) for row in results) == [(pid, 0, 300) for pid in blue]
    assert sorted(tuple(row) for row in coins) == [(pid, 300) for pid in blue]
    assert _paid(app) == [(ids["Martha Jones"], 400)]  # an individual win still pays its points
    app.close()
