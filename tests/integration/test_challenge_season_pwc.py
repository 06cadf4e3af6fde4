"""A scripted season on the PwC workbook, played through the chat commands with a moving clock.

January to March 2021, eight agents split into two teams. In February an opt-in "talk time sprint"
(talk-only AHT: the file has no hold or ACW) pays those who beat their own 28-day baseline by 5 seconds,
void for anyone whose February CSAT is below 3.34. In March team East plays team West on FCR. Every
expected figure below is computed here from the workbook's cells, not from Floorboard.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from bot.adapters.console import ConsoleAdapter
from bot.app import Floorboard, build
from bot.handlers.commands import default_registry
from bot.handlers.context import HandlerContext
from bot.handlers.contract import DestinationKind, Message
from bot.services import audit, challenges, wallet
from bot.services import badges as badge_awards
from bot.settings import load_settings
from bot.store.database import upgrade
from bot.store.models import (
    ChallengeResult,
    CoinEntry,
    Person,
    PointsEntry,
    Supervision,
    Team,
    TeamMembership,
)
from tests.cli_support import cli
from tests.conftest import shared_file
from tests.unit.test_handlers_world import text

XLSX = "tabular/pwc_call_center_original.xlsx"
EAST = ("Becky", "Dan", "Diane", "Greg")
WEST = ("Jim", "Joe", "Martha", "Stewart")
SUPERVISOR = "Sam Reed"
BASELINE = (date(2021, 1, 4), date(2021, 1, 31))  # the 28 business days before 2021-02-01
FEBRUARY = (date(2021, 2, 1), date(2021, 2, 28))
MARCH = (date(2021, 3, 1), date(2021, 3, 31))
GATE = 3.34
IMPROVE_BY = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2021, 1, 29, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: date) -> None:
        self.now = datetime.combine(day, time(12), tzinfo=UTC)


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def workbook_sums() -> dict[tuple[str, str, str], list[float]]:
    """(window, metric, agent) -> [sum, count] over answered calls, straight from the cells."""
    sums: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    windows = {
        "baseline": BASELINE,
        "february": FEBRUARY,
        "march": MARCH,
        "feb-1-15": (FEBRUARY[0], date(2021, 2, 15)),
    }
    workbook = load_workbook(shared_file(XLSX), read_only=True)
    rows = workbook["Sheet1"].iter_rows(values_only=True)
    header = next(rows)
    for values in rows:
        row = dict(zip(header, values, strict=True))
        if row["Answered (Y/N)"] != "Y":
            continue
        day = date.fromisoformat(row["Date"])
        for name, (start, end) in windows.items():
            if not start <= day <= end:
                continue
            facts = {"talk": _seconds(row["AvgTalkDuration"]), "fcr": 1 if row["Resolved"] == "Y" else 0}
            if row["Satisfaction rating"] is not None:
                facts["csat"] = row["Satisfaction rating"]
            for metric, value in facts.items():
                cell = sums[(name, metric, row["Agent"])]
                cell[0] += value
                cell[1] += 1
    workbook.close()
    return sums


def mean(sums: dict, window: str, metric: str, agents: tuple[str, ...]) -> float:
    total = sum(sums[(window, metric, agent)][0] for agent in agents)
    count = sum(sums[(window, metric, agent)][1] for agent in agents)
    return total / count


def pwc_floor(url: str, clock: Clock, program_file: Path | None = None) -> tuple[Floorboard, dict[str, int]]:
    """The workbook imported, teams East and West from 2021-01-01 and their supervisor: the app and ids."""
    upgrade(url)
    cli(url, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx")
    app = build(load_settings(database_url=url, program_file=program_file), clock=clock)
    with app.engine.begin() as connection:
        connection.execute(
            insert(Person).values(
                display_name=SUPERVISOR,
                role="supervisor",
                skills=[],
                attributes={},
                public_boards=True,
                created_at=clock(),
            )
        )
        ids = {name: int(pid) for name, pid in connection.execute(select(Person.display_name, Person.id))}
        for key, members in (("east", EAST), ("west", WEST)):
            team = connection.execute(
                insert(Team).values(key=key, name=key.title(), channels={}).returning(Team.id)
            ).scalar_one()
            connection.execute(
                insert(TeamMembership),
                [
                    {
                        "person_id": ids[name],
                        "team_id": team,
                        "valid_from": date(2021, 1, 1),
                        "valid_to": None,
                    }
                    for name in members
                ],
            )
            connection.execute(insert(Supervision).values(supervisor_id=ids[SUPERVISOR], team_id=team))
    return app, ids


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Floorboard, Clock, dict[str, int]]]:
    clock = Clock()
    app, ids = pwc_floor(f"sqlite:///{tmp_path_factory.mktemp('season') / 'fb.db'}", clock)
    yield app, clock, ids
    app.close()


def say(app: Floorboard, name: str, line: str) -> list[Message]:
    console = ConsoleAdapter(HandlerContext.of(app), default_registry(), io.StringIO())
    return console.handle(line, actor=console.actor(name))


SPRINT = (
    "/challenge create talk_time improvement 5 2021-02-01 2021-02-28 opt-in gate=csat gate_min=3.34 "
    'points=30 coins=5 badge "Talk time sprint"'
)
CUP = (
    '/challenge create fcr type=team top 1 2021-03-01 2021-03-31 east west points=50 coins=10 badge "FCR cup"'
)


def test_the_season(season: tuple[Floorboard, Clock, dict[str, int]]) -> None:
    app, clock, ids = season
    sums = workbook_sums()

    # January 29: agents cannot create; the supervisor creates both challenges; everyone joins the sprint.
    [refused] = say(app, "Jim", SPRINT)
    assert text(refused) == "/challenge create is for supervisors or admins only."
    [announce] = say(app, SUPERVISOR, SPRINT)
    assert announce.destination.kind is DestinationKind.ORIGIN
    assert text(announce) == (
        "Talk time sprint: individual challenge on Talk time, beat your own 28-day baseline by 5.0s, "
        "2021-02-01 to 2021-02-28; opt-in for the agents of east, west (/challenge join); "
        "void if CSAT is below 3.34. "
        "Reward: 30 pts, 5 coins, the challenge-won badge.\nTrack it with /challenge status Talk time sprint."
    )
    [cup] = say(app, SUPERVISOR, CUP)
    assert (
        "FCR cup: team challenge on FCR, finish in the top 1, 2021-03-01 to 2021-03-31; team east, west"
        in text(cup)
    )
    for agent in (*EAST, *WEST):
        [joined] = say(app, agent, "/challenge join talk time sprint")
        assert text(joined).startswith("You joined Talk time sprint.")
    [again] = say(app, "Dan", "/challenge join Talk time sprint")
    assert text(again) == "You are already in Talk time sprint."
    [not_opt_in] = say(app, "Dan", "/challenge join FCR cup")
    assert "FCR cup is not opt-in" in text(not_opt_in)

    # February 15: live progress over February 1-15 against January's baseline.
    clock.set(date(2021, 2, 15))
    [status] = say(app, SUPERVISOR, "/challenge status Talk time sprint")
    assert status.title == "Talk time sprint: standings through 2021-02-15"
    with app.engine.connect() as connection:
        info = challenges.get(connection, "Talk time sprint")
        assert info is not None
        live = challenges.progress(connection, app.program, info, today=date(2021, 2, 15))
    by_name = {line.name: line.standing for line in live.lines}
    for agent in (*EAST, *WEST):
        expected_value = mean(sums, "feb-1-15", "talk", (agent,))
        expected_baseline = mean(sums, "baseline", "talk", (agent,))
        assert by_name[agent].value == pytest.approx(expected_value, abs=1e-9)
        assert by_name[agent].baseline == pytest.approx(expected_baseline, abs=1e-9)
        assert by_name[agent].improvement == pytest.approx(expected_baseline - expected_value, abs=1e-9)

    # March 1: the supervisor ends the sprint over the whole of February.
    clock.set(date(2021, 3, 1))
    improvement = {
        agent: mean(sums, "baseline", "talk", (agent,)) - mean(sums, "february", "talk", (agent,))
        for agent in (*EAST, *WEST)
    }
    csat = {agent: mean(sums, "february", "csat", (agent,)) for agent in (*EAST, *WEST)}
    void = {agent for agent in improvement if csat[agent] < GATE}
    ranked = sorted((a for a in improvement if a not in void), key=lambda a: -improvement[a])
    winners = {agent for agent in ranked if improvement[agent] >= IMPROVE_BY}
    # Written down from the workbook: Joe improved most (8.48 s) and Jim by 6.41 s, but their CSAT
    # (3.33) is under the gate; Dan (7.31 s, CSAT 3.52) is the one winner.
    assert void == {"Jim", "Joe", "Becky", "Stewart"} and winners == {"Dan"}
    replies = say(app, SUPERVISOR, "/challenge end Talk time sprint")
    post, full, dm = replies
    assert post.destination.kind is DestinationKind.ORIGIN
    assert post.title == "Talk time sprint: final results (2021-02-01 to 2021-02-28)"
    assert text(post).startswith("Winners: Dan.")
    # the public post shows the winners and at most half of the ranked; the void and the bottom stay private
    public = [line.split()[1] for line in text(post).splitlines()[2:]]
    assert public == ranked[: len(ranked) // 2] == ["Dan", "Diane"]
    assert full.destination.kind is DestinationKind.CALLER
    assert sorted(line.split()[1] for line in text(full).splitlines()[1:]) == sorted((*EAST, *WEST))
    assert dm.destination.person_id == ids["Dan"]
    assert text(dm) == "You won Talk time sprint! 30 pts, 5 coins, the challenge-won badge"
    with app.engine.connect() as connection:
        results = {r.name: r for r in challenges.results(connection, info.id)}
    assert {name for name, r in results.items() if r.outcome == "void"} == void
    assert [results[a].rank for a in ranked] == list(range(1, len(ranked) + 1))
    assert {name for name, r in results.items() if r.outcome == "won"} == winners
    assert results["Dan"].points == 3000 and results["Dan"].coins == 500
    assert results["Dan"].badge == "challenge-won"

    [twice] = say(app, SUPERVISOR, "/challenge end Talk time sprint")
    assert text(twice) == "Talk time sprint is already ended; nothing was changed."

    # April 1: the FCR cup over March; teams pool every member's calls.
    clock.set(date(2021, 4, 1))
    east, west = mean(sums, "march", "fcr", EAST), mean(sums, "march", "fcr", WEST)
    assert (round(east, 5), round(west, 5)) == (0.90233, 0.90244)  # West by about one call in ten thousand
    [status] = say(app, "Becky", "/challenge status FCR cup")
    rows = [line for line in text(status).splitlines() if line.startswith(("1", "2"))]
    assert rows[0].split()[:3] == ["1", "West", "90.2%"] and rows[1].split()[:3] == ["2", "East", "90.2%"]
    post, _full, *dms = say(app, SUPERVISOR, "/challenge end FCR cup")
    assert text(post).startswith("Winners: West.")  # a team challenge names its teams
    assert [line.split()[:2] for line in text(post).splitlines()[2:]] == [["1", "West"]]
    assert sorted(m.destination.person_id for m in dms) == sorted(ids[a] for a in WEST)

    with app.engine.connect() as connection:
        cup_info = challenges.get(connection, "FCR cup")
        assert cup_info is not None
        cup_results = {r.name: r for r in challenges.results(connection, cup_info.id)}
        ledger = connection.execute(
            select(Person.display_name, PointsEntry.amount, PointsEntry.business_day)
            .join(Person, Person.id == PointsEntry.person_id)
            .where(PointsEntry.rule == "challenge")
        ).all()
        coins = connection.execute(
            select(Person.display_name, CoinEntry.amount)
            .join(Person, Person.id == CoinEntry.person_id)
            .where(CoinEntry.kind == "challenge")
        ).all()
        badges = {
            (b.person_id, b.inputs["challenge"], b.period_key, b.business_day)
            for b in badge_awards.earned(connection)
            if b.badge == "challenge-won"
        }
        results_count = connection.scalar(select(func.count()).select_from(ChallengeResult))
        actions = [line.action for line in audit.entries(connection, action_prefix="challenge.")]
    assert {n: (r.rank, r.outcome) for n, r in cup_results.items()} == {
        **{a: (1, "won") for a in WEST},
        **{a: (2, "finished") for a in EAST},
    }
    assert cup_results["Jim"].value == pytest.approx(west, abs=1e-12)
    assert sorted(ledger) == sorted(
        [("Dan", 3000, FEBRUARY[1])] + [(a, 5000, MARCH[1]) for a in WEST]
    )  # team wins feed each member's XP
    assert sorted(coins) == sorted([("Dan", 500)] + [(a, 1000) for a in WEST])
    # the challenge's own badge is in the badge table, once per challenge, on the last day counted
    sprint_key, cup_key = f"challenge:{info.id}", f"challenge:{cup_info.id}"
    assert badges == {(ids["Dan"], "talk-time-sprint", sprint_key, FEBRUARY[1])} | {
        (ids[a], "fcr-cup", cup_key, MARCH[1]) for a in WEST
    }
    assert results_count == 16
    assert actions == [
        "challenge.create",
        "challenge.create",
        *["challenge.join"] * 8,
        "challenge.end",
        "challenge.end",
    ]
    with app.engine.connect() as connection:
        assert challenges.wins(connection, ids["Jim"]) == 1


def test_wallet_credits_challenge_coins_on_top_of_coins_from_points(
    season: tuple[Floorboard, Clock, dict[str, int]],
) -> None:
    app, clock, ids = season
    with app.engine.begin() as connection:
        points = int(
            connection.scalar(select(func.sum(PointsEntry.amount)).where(PointsEntry.person_id == ids["Dan"]))
            or 0
        )
        seen = wallet.wallet(connection, app.program, ids["Dan"], now=clock())
        extra = int(
            connection.scalar(
                select(func.coalesce(func.sum(CoinEntry.amount), 0)).where(
                    CoinEntry.person_id == ids["Dan"], CoinEntry.kind != "earned"
                )
            )
            or 0
        )
    assert seen.balance == points * 10 // 100 + extra  # coins.per_point 0.1, rounded down on the total
