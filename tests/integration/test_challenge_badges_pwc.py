"""Badges for challenges won, on the PwC workbook: each challenge's own badge once per winner, and a
tiered "challenges won" count badge, with the winners worked out here from the workbook's cells.

Team East (Becky, Dan, Diane, Greg) and team West (Jim, Joe, Martha, Stewart). February: the East agents
with the two most answered calls (ties share a place) win "Busiest in February" (reward: the challenge
badge). March: every East agent with at least 155 answered calls wins "March calls", and team West plays
East on FCR (West wins, see test_challenge_season_pwc.py). The champion badge counts wins: bronze 1,
silver 2, gold 3.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import Floorboard
from bot.messages.explain import explain
from bot.program import parse_program
from bot.services import badges, challenges
from bot.store.models import BadgeAward, Person
from tests.conftest import shared_file
from tests.integration.test_challenge_season_pwc import EAST, SUPERVISOR, WEST, XLSX, Clock, pwc_floor, say
from tests.unit.test_handlers_world import text

MARCH_CALLS = 155
PROGRAM = """
timezone: UTC
metrics:
  fcr: {target: 0.85, min_samples: 10}
  handled: {min_samples: 1}
badges:
  - {id: champion, name: Challenge champion, kind: count, of: challenges_won,
     count: {bronze: 1, silver: 2, gold: 3}, period: all}
"""


def answered_calls() -> Counter[tuple[str, str]]:
    """(month `2021-02`, agent) -> answered calls, counted from the cells."""
    counts: Counter[tuple[str, str]] = Counter()
    workbook = load_workbook(shared_file(XLSX), read_only=True)
    rows = workbook["Sheet1"].iter_rows(values_only=True)
    header = next(rows)
    for values in rows:
        row = dict(zip(header, values, strict=True))
        if row["Answered (Y/N)"] == "Y":
            counts[(str(row["Date"])[:7], str(row["Agent"]))] += 1
    workbook.close()
    return counts


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Floorboard, Clock, dict[str, int]]]:
    folder = tmp_path_factory.mktemp("champions")
    program = folder / "program.yaml"
    program.write_text(PROGRAM, encoding="utf-8")
    clock = Clock()
    app, ids = pwc_floor(f"sqlite:///{folder / 'fb.db'}", clock, program)
    yield app, clock, ids
    app.close()


def champion_awards(app: Floorboard) -> set[tuple[str, str, date]]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            select(Person.display_name, BadgeAward.tier, BadgeAward.business_day)
            .join(Person, Person.id == BadgeAward.person_id)
            .where(BadgeAward.badge == "champion", BadgeAward.revoked_at.is_(None))
        ).all()
    return {(name, tier, day) for name, tier, day in rows}


def winners_by_hand(calls: Counter[tuple[str, str]]) -> tuple[set[str], set[str]]:
    """February's top 2 of East (ties share a rank: 1, 2, 2), and East's agents with 155+ calls in March."""
    february = {a: calls[("2021-02", a)] for a in EAST}
    rank = {a: 1 + sum(other > mine for other in february.values()) for a, mine in february.items()}
    return {a for a in EAST if rank[a] <= 2}, {a for a in EAST if calls[("2021-03", a)] >= MARCH_CALLS}


def test_challenge_wins_earn_the_challenge_badge_once_and_the_champion_tiers(floor) -> None:
    app, clock, ids = floor
    feb_winners, march_winners = winners_by_hand(answered_calls())
    feb_end, mar_end = date(2021, 2, 28), date(2021, 3, 31)
    # written down from the workbook: Greg 176 calls, Becky and Dan 170 each (tied second), Diane 157;
    # in March Becky 170, Dan 163, Diane 159, Greg 153
    assert feb_winners == {"Greg", "Becky", "Dan"} and march_winners == {"Becky", "Dan", "Diane"}

    say(
        app,
        SUPERVISOR,
        '/challenge create handled top 2 2021-02-01 2021-02-28 east badge "Busiest in February"',
    )
    say(
        app,
        SUPERVISOR,
        f'/challenge create handled absolute {MARCH_CALLS} 2021-03-01 2021-03-31 east "March calls"',
    )
    say(app, SUPERVISOR, '/challenge create fcr type=team top 1 2021-03-01 2021-03-31 east west "FCR cup"')
    with app.engine.connect() as connection:
        assert len(challenges.listed(connection)) == 3
    assert champion_awards(app) == set()

    clock.set(date(2021, 3, 1))
    post, *_ = say(app, SUPERVISOR, "/challenge end Busiest in February")
    assert text(post).startswith("Winners: Greg, Becky, Dan.")
    assert champion_awards(app) == {(a, "bronze", feb_end) for a in feb_winners}
    [again] = say(app, SUPERVISOR, "/challenge end Busiest in February")
    assert "already ended" in text(again)
    assert champion_awards(app) == {(a, "bronze", feb_end) for a in feb_winners}

    clock.set(date(2021, 4, 1))
    say(app, SUPERVISOR, "/challenge end March calls")
    post, *_ = say(app, SUPERVISOR, "/challenge end FCR cup")
    assert text(post).startswith("Winners: West.")  # West's FCR, as in the season

    # bronze on the first win's day, silver on the second's; nobody won three (no gold)
    expected = {(a, "bronze", feb_end) for a in feb_winners}
    expected |= {(a, "silver", mar_end) for a in feb_winners & march_winners}
    expected |= {(a, "bronze", mar_end) for a in (march_winners - feb_winners) | set(WEST)}
    assert expected == {
        ("Greg", "bronze", feb_end),
        ("Becky", "bronze", feb_end),
        ("Dan", "bronze", feb_end),
        ("Becky", "silver", mar_end),
        ("Dan", "silver", mar_end),
        ("Diane", "bronze", mar_end),
        *{(a, "bronze", mar_end) for a in WEST},
    }
    assert champion_awards(app) == expected
    # re-evaluating every agent's day badges (as an import does) keeps exactly these
    with app.engine.begin() as connection:
        badges.refresh(connection, set(ids.values()), app.history, clock)
    assert champion_awards(app) == expected

    with app.engine.connect() as connection:
        earned = badges.earned(connection)
    own = sorted(
        (item.person_id, item.period_key, item.business_day)
        for item in earned
        if item.badge == "challenge-won"
    )
    [key] = {period_key for _, period_key, _ in own}
    assert key.startswith("challenge:")
    assert own == sorted((ids[a], key, feb_end) for a in feb_winners)
    [silver] = [
        item
        for item in earned
        if item.badge == "champion" and item.person_id == ids["Dan"] and item.tier == "silver"
    ]
    assert explain(silver.template, silver.inputs) == (
        f"Silver Challenge champion: 2 challenges won in all, program v{app.version}"
    )
    [greg] = [item for item in earned if item.badge == "challenge-won" and item.person_id == ids["Greg"]]
    assert explain(greg.template, greg.inputs) == (
        f"challenge-won: won the challenge Busiest in February (rank 1, 2021-02-01 to 2021-02-28), "
        f"program v{app.version}"
    )


def test_badges_and_me_show_the_wins_and_the_next_tier(floor) -> None:
    app, _clock, _ids = floor
    [listing] = say(app, "Greg", "/badges")
    shown = text(listing)
    assert "challenge-won" in shown and "the challenge Busiest in February" in shown
    assert "Bronze Challenge champion" in shown
    assert "Silver Challenge champion" in shown and "1 of 2" in shown
    [me] = say(app, "Greg", "/me")
    assert "Challenges won: 1; Silver Challenge champion at 2" in text(me)
    [dan] = say(app, "Dan", "/me")
    assert "Challenges won: 2; Gold Challenge champion at 3" in text(dan)


def test_the_win_badge_may_not_also_be_a_program_badge() -> None:
    with pytest.raises(ValueError, match=r"challenges\.win_badge"):
        parse_program(
            "badges:\n  - {id: challenge-won, kind: count, of: challenges_won, count: 1}\n", "program.yaml"
        )
