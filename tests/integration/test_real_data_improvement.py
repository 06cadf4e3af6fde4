"""Improvement rules on the PwC workbook: points computed here from the raw cells, and what-if against a
full recomputation."""

from bisect import bisect_left
from collections import defaultdict
from datetime import date, time, timedelta
from fractions import Fraction

import openpyxl
import pytest
from sqlalchemy import select

from bot.feeds.mapping import load_mapping
from bot.feeds.tabular import parse_file
from bot.messages.explain import explain
from bot.program import parse_program
from bot.scoring.periods import Period
from bot.services.leaderboard import board
from bot.services.ledger import net_points
from bot.services.whatif import whatif
from bot.store.models import Person, PointsEntry
from tests.conftest import make_app, shared_file

XLSX = "tabular/pwc_call_center_original.xlsx"
PROGRAM = """\
metrics:
  talk_time: {min_samples: 3, floor: 60}
  fcr: {min_samples: 4}
points:
  - {id: csat-day, metric: csat, zones: [[3, 0], [5, 10]]}
  - id: talk-improve
    metric: talk_time
    improvement: {baseline_days: 28, baseline: calendar_days, per: 10, points: 1, baseline_min_samples: 20}
  - id: fcr-improve
    metric: fcr
    improvement: {baseline_days: 10, per: 0.01, points: 0.5, cap: 6}
"""
Calls = dict[str, dict[date, list[tuple[int, bool]]]]


def _answered_calls() -> Calls:
    """Agent → day → (talk seconds, resolved) of each answered call, straight from the cells."""
    calls: Calls = defaultdict(lambda: defaultdict(list))
    workbook = openpyxl.load_workbook(shared_file(XLSX), read_only=True)
    for row in list(workbook["Sheet1"].iter_rows(values_only=True))[1:]:
        _, agent, day, clock, _, answered, resolved, _, talk, _ = row
        if answered == "Y" and isinstance(clock, time):
            seconds = talk.hour * 3600 + talk.minute * 60 + talk.second
            calls[agent][date.fromisoformat(day)].append((seconds, resolved == "Y"))
    workbook.close()
    return calls


def _hundredths(points: Fraction) -> int:
    return int(points * 100 + Fraction(1, 2))  # half away from zero; points here are never negative


def _talk_points(days: dict[date, list[tuple[int, bool]]]) -> dict[date, int]:
    """28 calendar days before each day, pooled over calls; 1 pt per 10 s shorter; ≥ 3 calls, ≥ 20 before."""
    out = {}
    for day, calls in days.items():
        if len(calls) < 3:
            continue
        value = Fraction(sum(talk for talk, _ in calls), len(calls))
        window = [
            talk
            for other, before in days.items()
            if day - timedelta(days=28) <= other < day
            for talk, _ in before
        ]
        if len(window) < 20 or value < 60:
            continue
        better = Fraction(sum(window), len(window)) - value
        if better > 0 and _hundredths(better / 10):
            out[day] = _hundredths(better / 10)
    return out


def _fcr_points(days: dict[date, list[tuple[int, bool]]]) -> dict[date, int]:
    """The 10 working days before each day; 0.5 pt per percentage point better, capped at 6; ≥ 4 calls."""
    worked = sorted(days)
    out = {}
    for day, calls in days.items():
        earlier = worked[max(bisect_left(worked, day) - 10, 0) : bisect_left(worked, day)]
        window = [resolved for other in earlier for _, resolved in days[other]]
        if len(calls) < 4 or len(window) < 4:
            continue
        value = Fraction(sum(resolved for _, resolved in calls), len(calls))
        better = value - Fraction(sum(window), len(window))
        if better > 0 and _hundredths(better * 100 / 2):
            out[day] = min(_hundredths(better * 100 / 2), 600)
    return out


def _import(app) -> None:
    app.ingest(
        parse_file(shared_file(XLSX), load_mapping("pwc-xlsx"), default_tz=app.program.timezone),
        source="pwc",
        origin="file",
        create_unknown=True,
    )


@pytest.fixture(scope="module")
def calls() -> Calls:
    return _answered_calls()


def test_improvement_points_match_a_computation_from_the_workbook(tmp_path, calls):
    program = tmp_path / "program.yaml"
    program.write_text(PROGRAM, encoding="utf-8")
    app = make_app(f"sqlite:///{tmp_path / 'pwc.db'}", program_file=program)
    _import(app)
    ledger = net_points(app.engine)
    for rule, expected_of in (("talk-improve", _talk_points), ("fcr-improve", _fcr_points)):
        got = {(agent, day): amount for (agent, day, r, _), amount in ledger.items() if r == rule}
        expected = {
            (agent, day): amount for agent, days in calls.items() for day, amount in expected_of(days).items()
        }
        assert got == expected, rule
        assert len(expected) > 100  # most agent-days are scored, on both windows

    # one sentence, for Martha on a day she beat her own 28-day talk time
    day = min(day for (agent, day, rule, _) in ledger if agent == "Martha" and rule == "talk-improve")
    talks = [talk for talk, _ in calls["Martha"][day]]
    with app.engine.connect() as connection:
        template, inputs = connection.execute(
            select(PointsEntry.template, PointsEntry.inputs)
            .join(Person, Person.id == PointsEntry.person_id)
            .where(
                Person.display_name == "Martha",
                PointsEntry.business_day == day,
                PointsEntry.rule == "talk-improve",
            )
        ).one()
    assert inputs["samples"] == len(talks) and inputs["value"] == pytest.approx(sum(talks) / len(talks))
    assert explain(template, inputs).startswith(
        f"Talk time {_clock(sum(talks) / len(talks))} over {len(talks)} contacts vs your 28-day baseline "
    )
    app.close()


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}m {whole % 60:02d}s"


def _points_board(app, at: date) -> dict[str, tuple[float, int]]:
    with app.engine.connect() as connection:
        result = board(connection, app.program, metric="points", period=Period.MONTH, at=at)
    return {entry.name: (round(entry.value, 2), entry.rank) for entry in result.entries}


def test_whatif_with_a_changed_improvement_rule_shows_what_a_full_recomputation_gives(tmp_path):
    current_file, proposed_file = tmp_path / "current.yaml", tmp_path / "proposed.yaml"
    current_file.write_text(PROGRAM, encoding="utf-8")
    proposed_text = PROGRAM.replace("per: 10, points: 1,", "per: 5, points: 2,").replace(
        "baseline_days: 28", "baseline_days: 7"
    )
    assert proposed_text.count("per: 5, points: 2,") == 1
    proposed_file.write_text(proposed_text, encoding="utf-8")
    current = make_app(f"sqlite:///{tmp_path / 'current.db'}", program_file=current_file)
    _import(current)
    before = net_points(current.engine)
    at = date(2021, 2, 15)
    result = whatif(
        current.engine, current.history, parse_program(proposed_text, "p").program, period=Period.MONTH, at=at
    )
    assert net_points(current.engine) == before

    recomputed = make_app(f"sqlite:///{tmp_path / 'recomputed.db'}", program_file=proposed_file)
    _import(recomputed)
    assert {row.name: (round(row.points_then, 2), row.rank_then) for row in result.rows} == _points_board(
        recomputed, at
    )
    assert {row.name: (round(row.points_now, 2), row.rank_now) for row in result.rows} == _points_board(
        current, at
    )
    assert any(row.points_now != row.points_then for row in result.rows)
