"""`/challenge …` on the small floor: who may do what, refusals that name the problem, standings
visibility, cancel, autocomplete, and rewards granted exactly once even when two ends race."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Floorboard
from bot.handlers.commands import default_registry
from bot.handlers.commands.challenge import AUTOCOMPLETE, autocomplete_challenges
from bot.handlers.contract import DestinationKind, ParamKind
from bot.services import audit, challenges
from bot.services import badges as badge_awards
from bot.store.models import Challenge, ChallengeResult, PointsEntry
from tests.conftest import fixed_clock
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

CSAT_TODAY = '/challenge create csat absolute 4.75 2021-04-01 2021-04-07 blue points=20 "Blue five stars"'


def test_registry_declares_subcommands_with_roles_and_autocomplete() -> None:
    registry = default_registry()
    names = [spec.name for spec in registry.subcommands("challenge")]
    assert names == [f"challenge {s}" for s in ("cancel", "create", "end", "join", "list", "status")]
    create = registry.get("challenge create")
    assert create is not None and "agent" not in {r.value for r in create.roles}
    assert {p.name: p.kind for p in create.params}["target"] is ParamKind.NUMBER
    join = registry.get("challenge join")
    assert join is not None and join.params[0].autocomplete == AUTOCOMPLETE == "challenge"
    assert registry.resolve("challenge", "create csat x") == ("challenge create", "csat x")
    assert registry.resolve("kudos", "@Jim thanks") == ("kudos", "@Jim thanks")


def test_create_status_and_end_on_todays_data(any_app: Floorboard) -> None:
    ids = seed(any_app)
    [bare] = say(any_app, "Jim Park", "/challenge")
    assert text(bare).startswith("/challenge needs one of: cancel|create|end|join|list|status.")
    [created] = say(any_app, SUPERVISOR, CSAT_TODAY)
    assert text(created).startswith(
        "Blue five stars: individual challenge on CSAT, reach 4.75, 2021-04-01 to 2021-04-07; team blue"
    )
    [listed] = say(any_app, "Jim Park", "/challenge list")
    assert "Blue five stars" in text(listed)
    with any_app.engine.connect() as connection:
        assert autocomplete_challenges(connection, "five") == ["Blue five stars"]
        assert autocomplete_challenges(connection, "red") == []
    blue_agents = ("Martha Jones", "Jim Park", "Ann Lee", "Ben Cole")  # Eve left Blue on 2021-03-15
    expected = sorted(blue_agents, key=lambda n: -mean(n))
    [standing] = say(any_app, "Ben Cole", "/challenge status Blue five stars")
    lines = text(standing).splitlines()
    # Ben is 4th of 4: he sees the top half (2), as a channel would, then his own line
    seen = [*expected[:2], "Ben Cole"]
    assert [line.split()[1] + " " + line.split()[2] for line in lines[1:4]] == seen
    assert lines[4] == "You: 4th."
    assert lines[-1] == "1 more not shown."
    [full_view] = say(any_app, SUPERVISOR, "/challenge status Blue five stars")
    assert [" ".join(line.split()[1:3]) for line in text(full_view).splitlines()[1:]] == expected
    post, full, *dms = say(any_app, SUPERVISOR, "/challenge end Blue five stars")
    assert full.destination.kind is DestinationKind.CALLER
    winners = [n for n in blue_agents if mean(n) >= 4.75]
    assert text(post).startswith(f"Winners: {', '.join(sorted(winners, key=lambda n: -mean(n)))}.")
    assert sorted(m.destination.person_id for m in dms) == sorted(ids[n] for n in winners)
    with any_app.engine.connect() as connection:
        awarded = connection.execute(
            select(PointsEntry.person_id, PointsEntry.amount).where(PointsEntry.rule == "challenge")
        ).all()
    assert sorted(awarded) == sorted((ids[n], 2000) for n in winners)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '/challenge create csat absolute 4 2021-04-01 2021-04-07 "No one"',
            "Say who takes part with exactly one of",
        ),
        (
            '/challenge create csat absolute 4 2021-04-01 2021-04-07 red "Not mine"',
            "You do not supervise team red",
        ),
        (
            '/challenge create csat top 1.5 2021-04-01 2021-04-07 blue "Half"',
            "A top goal needs a whole number",
        ),
        (
            '/challenge create csat absolute 4 2021-04-07 2021-04-01 blue "Backwards"',
            "The window ends (2021-04-01) before",
        ),
        (
            '/challenge create csat absolute 4 2021-03-01 2021-03-31 blue "Old"',
            "The window ended on 2021-03-31",
        ),
        (
            '/challenge create csat type=team absolute 4 2021-04-01 2021-04-07 @Jim @Ann "Teams"',
            "A team challenge is between teams",
        ),
        (
            '/challenge create csat type=head-to-head top 1 2021-04-01 2021-04-07 @Jim "H2H"',
            "Head-to-head is between exactly two",
        ),
        (
            '/challenge create aht absolute 300 2021-04-01 2021-04-07 blue gate_min=4 "No gate"',
            "gate_min and gate_max need gate=",
        ),
        ('/challenge create csat absolute x 2021-04-01 2021-04-07 blue "Bad"', "I don't understand x here"),
        (
            '/challenge create csat top 1 2021-04-01 2021-04-07 @Jim @Cara "Mixed"',
            "Cara Diaz is not in a team you",
        ),
        (
            "/challenge create points absolute 1 2021-04-01 2021-04-01 @Jim points=99999999999 "
            'coins=99999999999 "Mint"',
            "A challenge pays each winner at most 10,000 points. Nothing was created.",
        ),
        (
            '/challenge create points absolute 1 2021-04-01 2021-04-01 @Jim points=10 coins=10000.01 "Mint"',
            "A challenge pays each winner at most 10,000 coins. Nothing was created.",
        ),
        (
            '/challenge create points absolute 1 2021-04-01 2021-04-01 @Jim points=0.001 "Dust"',
            "A reward of 0.001 points rounds to nothing (the smallest is 0.01). Nothing was created.",
        ),
        (
            '/challenge create handled improvement 5 2021-04-01 2021-04-07 blue baseline=100000000 "Base"',
            "baseline must be a whole number of days from 1 to 365, not 100000000. Nothing was created.",
        ),
        (
            '/challenge create handled improvement 5 2021-04-01 2021-04-07 blue baseline=0 "Base"',
            "baseline must be a whole number of days from 1 to 365, not 0. Nothing was created.",
        ),
        (
            "/challenge create aht absolute 300 2021-04-01 2021-04-07 blue gate=csat gate_min=9 "
            'gate_max=1 "G"',
            "The gate on csat asks for at least 9 and at most 1, which no one can meet. Nothing was created.",
        ),
        (
            '/challenge create aht absolute 99999999999999999999999 2021-04-01 2021-04-07 blue "Far"',
            "The target 1e+23 is beyond any value of aht. Nothing was created.",
        ),
    ],
)
def test_create_refusals_write_nothing(app: Floorboard, line: str, expected: str) -> None:
    seed(app)
    [reply] = say(app, SUPERVISOR, line)
    assert expected in text(reply)
    with app.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Challenge)) == 0


def test_head_to_head_cancel_and_audit(app: Floorboard) -> None:
    ids = seed(app)
    [created] = say(
        app, ADMIN, '/challenge create csat type=head-to-head top 1 2021-04-01 2021-04-02 @Jim @Ann "Duel"'
    )
    assert "head-to-head challenge on CSAT, finish in the top 1" in text(created)
    [taken] = say(
        app, ADMIN, '/challenge create csat type=head-to-head top 1 2021-04-01 2021-04-02 @Jim @Ann "duel"'
    )
    assert text(taken) == "There is already a challenge called duel; pick another name. Nothing was created."
    [not_yours] = say(app, SUPERVISOR, "/challenge cancel Duel")
    assert text(not_yours).startswith("You can only end or cancel challenges you created")
    [agent] = say(app, "Jim Park", "/challenge end Duel")
    assert text(agent) == "/challenge end is for supervisors or admins only."
    [cancelled] = say(app, ADMIN, '/challenge cancel reason="wrong metric @here" Duel')
    assert cancelled.destination.kind is DestinationKind.ORIGIN
    assert text(cancelled) == "Duel is cancelled; no results and no rewards. Reason: wrong metric @here"
    [closed] = say(app, ADMIN, "/challenge end Duel")
    assert text(closed) == "Duel is already cancelled; nothing was changed."
    with app.engine.connect() as connection:
        lines = audit.entries(connection, action_prefix="challenge.")
        assert connection.scalar(select(func.count()).select_from(ChallengeResult)) == 0
    assert [(line.action, line.actor) for line in lines] == [
        ("challenge.create", ADMIN),
        ("challenge.cancel", ADMIN),
    ]
    assert lines[0].details["agents"] == [ids["Jim Park"], ids["Ann Lee"]]
    assert lines[1].details == {"reason": "wrong metric @here"}


def test_two_racing_ends_grant_rewards_once(postgres_url: str) -> None:
    from tests.conftest import make_app

    app = make_app(postgres_url)
    ids = seed(app)
    say(
        app,
        SUPERVISOR,
        '/challenge create csat top 2 2021-04-01 2021-04-01 blue points=10 coins=3 badge "Race"',
    )
    barrier = threading.Barrier(4)
    replies: list[str] = []

    def end() -> None:
        barrier.wait()
        replies.append(text(say(app, SUPERVISOR, "/challenge end Race")[0]))

    threads = [threading.Thread(target=end) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(reply.startswith("Winners: Martha Jones, Jim Park.") for reply in replies) == 1
    assert sorted(replies)[:3] == ["Race is already ended; nothing was changed."] * 3
    with app.engine.connect() as connection:
        points = connection.execute(
            select(PointsEntry.person_id).where(PointsEntry.rule == "challenge")
        ).all()
        badges = badge_awards.earned(connection)
    assert sorted(p for (p,) in points) == sorted([ids["Martha Jones"], ids["Jim Park"]])
    assert sorted((b.person_id, b.badge) for b in badges) == sorted(
        [(ids["Martha Jones"], "challenge-won"), (ids["Jim Park"], "challenge-won")]
    )
    assert RATINGS["Martha Jones"] > RATINGS["Jim Park"]
    app.close()


def test_a_team_counts_each_members_days_in_the_team_only(app: Floorboard) -> None:
    """Eve Gray moved from Blue to Red on 2021-03-15: her March 10 calls count for Blue, the rest for Red."""
    extra = {"Eve Gray": [1, 1]}
    app.ingest(
        [ratings_records(extra, day=date(2021, 3, 10), prefix="early")],
        source="test",
        origin="test",
        create_unknown=True,
    )
    app.ingest(
        [ratings_records({"Eve Gray": [2, 2, 2]}, day=date(2021, 3, 20), prefix="late")],
        source="test",
        origin="test",
        create_unknown=True,
    )
    seed(app)
    say(app, ADMIN, '/challenge create csat type=team top 1 2021-03-10 2021-04-01 blue red "Moves"')
    blue = [r for n in ("Martha Jones", "Jim Park", "Ann Lee", "Ben Cole") for r in RATINGS[n]] + [1, 1]
    red = [r for n in ("Cara Diaz", "Dan Fox", "Finn Hart", "Eve Gray") for r in RATINGS[n]] + [2, 2, 2]
    with app.engine.connect() as connection:
        info = challenges.get(connection, "Moves")
        assert info is not None
        lines = {
            line.name: line.standing
            for line in challenges.progress(connection, app.program, info, today=DAY).lines
        }
    assert lines["Blue"].value == pytest.approx(sum(blue) / len(blue), abs=1e-12)
    assert lines["Blue"].samples == len(blue)
    assert lines["Red"].value == pytest.approx(sum(red) / len(red), abs=1e-12)
    assert lines["Red"].samples == len(red)


def zone(value: float) -> float:
    """csat-day of the default program, by hand: 0 at 3.5, 10 at 4.2, 20 at 4.8, linear between."""
    if value >= 4.8:
        return 20.0
    if value >= 4.2:
        return 10 + (value - 4.2) / 0.6 * 10
    return max(0.0, (value - 3.5) / 0.7 * 10)


def test_a_points_challenge_shares_the_top_between_ties(app: Floorboard) -> None:
    ids = seed(app)
    agents = ("Martha Jones", "Jim Park", "Ann Lee", "Ben Cole")
    say(
        app,
        SUPERVISOR,
        '/challenge create points top 2 2021-04-01 2021-04-01 @Martha @Jim @Ann @Ben points=5 "Points dash"',
    )
    # each agent's day: csat-day on the mean of 10 surveys plus handled-day for 10 calls (10 / 40 x 10 pts)
    expected = {name: round(zone(mean(name)) + 2.5, 2) for name in agents}
    assert expected["Martha Jones"] == expected["Jim Park"] == expected["Ann Lee"] == 22.5
    post, *_ = say(app, SUPERVISOR, "/challenge end Points dash")
    assert text(post).startswith("Winners: Ann Lee, Jim Park, Martha Jones.")
    with app.engine.connect() as connection:
        info = challenges.get(connection, "points dash")
        assert info is not None
        results = {r.name: (r.rank, r.value, r.outcome) for r in challenges.results(connection, info.id)}
    assert results == {
        "Martha Jones": (1, 22.5, "won"),
        "Jim Park": (1, 22.5, "won"),
        "Ann Lee": (1, 22.5, "won"),
        "Ben Cole": (4, pytest.approx(expected["Ben Cole"], abs=0.01), "finished"),
    }
    with app.engine.connect() as connection:
        paid = connection.execute(
            select(PointsEntry.person_id, PointsEntry.amount).where(PointsEntry.rule == "challenge")
        ).all()
    assert sorted(paid) == sorted((ids[name], 500) for name in agents[:3])


def test_the_scheduler_ends_challenges_whose_window_is_over_once(app: Floorboard) -> None:
    ids = seed(app)
    say(app, SUPERVISOR, '/challenge create csat top 1 2021-04-01 2021-04-01 blue points=7 "Today only"')
    say(app, SUPERVISOR, '/challenge create csat top 1 2021-04-01 2021-04-09 blue "Next week"')
    version = app.version
    assert challenges.end_due(app.engine, app.program, now=fixed_clock(), program_version=version) == []
    tomorrow = fixed_clock() + timedelta(days=1)
    [(info, rows)] = challenges.end_due(app.engine, app.program, now=tomorrow, program_version=version)
    assert info.name == "Today only"
    assert [(r.name, r.outcome) for r in rows if r.outcome == "won"] == [("Martha Jones", "won")]
    assert challenges.end_due(app.engine, app.program, now=tomorrow, program_version=version) == []
    with app.engine.connect() as connection:
        [line] = [e for e in audit.entries(connection, action_prefix="challenge.end")]
        paid = connection.execute(select(PointsEntry.person_id).where(PointsEntry.rule == "challenge")).all()
        still_open = [c.name for c in challenges.listed(connection)]
    assert (line.actor, line.actor_id) == ("scheduler", None)
    assert paid == [(ids["Martha Jones"],)]
    assert still_open == ["Next week"]


def test_two_racing_ends_award_the_champion_badge_once(postgres_url: str, tmp_path: Path) -> None:
    """On PostgreSQL: the challenges-won count badge and the challenge's own badge, once per winner."""
    from tests.conftest import make_app

    program = tmp_path / "program.yaml"
    default = (Path(__file__).parents[2] / "bot" / "programs" / "default.yaml").read_text(encoding="utf-8")
    program.write_text(
        default
        + "badges:\n  - {id: champion, name: Champion, kind: count, of: challenges_won,"
        + " count: {bronze: 1, silver: 2}, period: month}\n",
        encoding="utf-8",
    )
    app = make_app(postgres_url, program_file=program)
    ids = seed(app)
    say(app, SUPERVISOR, '/challenge create csat top 2 2021-04-01 2021-04-01 blue badge "Race"')
    barrier = threading.Barrier(3)

    def end() -> None:
        barrier.wait()
        say(app, SUPERVISOR, "/challenge end Race")

    threads = [threading.Thread(target=end) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.engine.connect() as connection:
        awarded = sorted(
            (item.person_id, item.badge, item.tier, item.period_key, item.business_day)
            for item in badge_awards.earned(connection)
        )
        race = challenges.get(connection, "Race")
    assert race is not None
    # the top 2 of Blue by CSAT on the day, as test_two_racing_ends_grant_rewards_once works out
    winners = sorted([ids["Martha Jones"], ids["Jim Park"]])
    assert awarded == sorted(
        [(pid, "champion", "bronze", "month:2021-04-01", DAY) for pid in winners]
        + [(pid, "challenge-won", "", f"challenge:{race.id}", DAY) for pid in winners]
    )
    app.close()


def test_the_largest_reward_is_paid_in_full(app: Floorboard) -> None:
    ids = seed(app)
    line = '/challenge create points absolute 1 2021-04-01 2021-04-01 @Jim points=10000 coins=10000 "Max"'
    [created] = say(app, SUPERVISOR, line)
    assert "Max" in text(created)
    say(app, SUPERVISOR, "/challenge end Max")
    with app.engine.connect() as connection:
        paid = connection.execute(
            select(ChallengeResult.points, ChallengeResult.coins).where(
                ChallengeResult.person_id == ids["Jim Park"]
            )
        ).one()
    assert tuple(paid) == (1_000_000, 1_000_000)  # hundredths: 10,000 points and 10,000 coins
