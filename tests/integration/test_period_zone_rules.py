"""Zone rules over a week, month or quarter on the PwC workbook; expected points computed from its cells."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import Floorboard, build
from bot.feeds.mapping import load_mapping
from bot.feeds.tabular import parse_file
from bot.messages import explain
from bot.program import parse_program
from bot.scoring.periods import Period
from bot.services import badges, people, profiles
from bot.services.ledger import net_points
from bot.services.rescore import rescore
from bot.services.whatif import whatif
from bot.settings import load_settings
from bot.store.database import upgrade
from bot.store.models import PointsEntry
from tests.conftest import shared_file

WORKBOOK = "tabular/pwc_call_center_original.xlsx"
PROGRAM = """
timezone: UTC
metrics:
  csat: {min_samples: 160}
  talk_time: {min_samples: 10}
points:
  - {id: csat-month, metric: csat, period: month, zones: [[3.0, 0], [4.0, 50]]}
  - {id: handled-week, metric: handled, period: week, zones: [[20, 0], [60, 30]], gate: {fcr: {gte: 0.9}}}
  - {id: talk-quarter, metric: talk_time, period: quarter, zones: [[235, 0], [215, 40]], cap: 25}
  - {id: handled-day, metric: handled, zones: [[0, 0], [20, 10]]}
"""
AFTER_Q1 = datetime(2021, 5, 1, 12, tzinfo=UTC)  # Q1 is over; imported now, it is closed by `through`
APRIL_1 = datetime(2021, 4, 1, 12, tzinfo=UTC)


def _cents(points: float) -> int:
    return int(abs(points) * 100 + 0.5) * (1 if points >= 0 else -1)


def _linear(value: float, low: tuple[float, float], high: tuple[float, float]) -> float:
    (x0, y0), (x1, y1) = sorted([low, high])
    if value <= x0:
        return y0
    if value >= x1:
        return y1
    return y0 + (value - x0) / (x1 - x0) * (y1 - y0)


def _calls() -> list[dict]:
    workbook = load_workbook(shared_file(WORKBOOK), read_only=True)
    rows = workbook["Sheet1"].iter_rows(values_only=True)
    header = next(rows)
    calls = [dict(zip(header, values, strict=True)) for values in rows]
    workbook.close()
    return [call for call in calls if call["Answered (Y/N)"] == "Y"]


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def expected_points(last_closed: date) -> dict[tuple[str, date, str], int]:
    """(agent, first day of the period, rule) → hundredths, for periods ending by `last_closed`."""
    months: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    weeks: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])  # handled, resolved
    quarter: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for call in _calls():
        day = date.fromisoformat(call["Date"])
        agent = call["Agent"]
        if call["Satisfaction rating"] is not None:
            months[(agent, day.replace(day=1))][0] += call["Satisfaction rating"]
            months[(agent, day.replace(day=1))][1] += 1
        week = weeks[(agent, day - timedelta(days=day.weekday()))]
        week[0] += 1
        week[1] += call["Resolved"] == "Y"
        quarter[agent][0] += _seconds(call["AvgTalkDuration"])
        quarter[agent][1] += 1
    out = {}
    for (agent, first), (total, surveys) in months.items():
        end = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        if end <= last_closed and surveys >= 160:
            out[(agent, first, "csat-month")] = _cents(_linear(total / surveys, (3.0, 0), (4.0, 50)))
    for (agent, first), (handled, resolved) in weeks.items():
        if first + timedelta(days=6) <= last_closed and resolved / handled >= 0.9:
            out[(agent, first, "handled-week")] = _cents(_linear(handled, (20, 0), (60, 30)))
    if date(2021, 3, 31) <= last_closed:
        for agent, (talk, calls) in quarter.items():
            points = min(_linear(talk / calls, (235, 0), (215, 40)), 25)
            out[(agent, date(2021, 1, 1), "talk-quarter")] = _cents(points)
    return {key: amount for key, amount in out.items() if amount}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _app(tmp_path: Path, name: str, now: datetime | Clock, text: str = PROGRAM) -> Floorboard:
    url = f"sqlite:///{tmp_path / name}.db"
    program_file = tmp_path / f"{name}.yaml"
    program_file.write_text(text, encoding="utf-8")
    upgrade(url)
    clock = now if isinstance(now, Clock) else Clock(now)
    return build(load_settings(database_url=url, program_file=program_file), clock=clock)


def _import(app: Floorboard, keep=lambda record: True) -> None:
    parsed = parse_file(shared_file(WORKBOOK), load_mapping("pwc-xlsx"), default_tz="UTC")
    chunks = [[item for item in chunk if not hasattr(item, "subject") or keep(item)] for chunk in parsed]
    app.ingest(chunks, source="pwc", origin="file", create_unknown=True)


def _close_q1(app: Floorboard) -> list[str]:
    """The backfill is finished: close Q1 now rather than a correction window after it arrived."""
    return badges.close_due(app.engine, app.history, app.clock, through=date(2021, 3, 31))


def _period_ledger(app: Floorboard) -> dict[tuple[str, date, str], int]:
    return {
        (agent, day, rule): amount
        for (agent, day, rule, _), amount in net_points(app.engine).items()
        if rule != "handled-day"
    }


@pytest.fixture(scope="module")
def after_q1(tmp_path_factory) -> Iterator[Floorboard]:
    app = _app(tmp_path_factory.mktemp("periods"), "after", AFTER_Q1)
    _import(app)
    _close_q1(app)
    yield app
    app.close()


def test_period_points_are_the_pooled_period_values_of_the_workbook(after_q1):
    expected = expected_points(date(2021, 3, 31))
    assert {rule for _, _, rule in expected} == {"csat-month", "handled-week", "talk-quarter"}
    assert ("Stewart", date(2021, 2, 1), "csat-month") not in expected  # 135 surveys < min_samples 160
    assert expected[("Diane", date(2021, 1, 1), "talk-quarter")] == 2500  # 32.09 capped at 25
    assert _period_ledger(after_q1) == expected
    # Martha's January: 606 ratings over 171 surveys = 3.54386 → 27.19 pts
    assert expected[("Martha", date(2021, 1, 1), "csat-month")] == 2719


def test_day_rules_are_scored_beside_period_rules_on_the_same_day(after_q1):
    ledger = net_points(after_q1.engine)
    daily = {key: amount for key, amount in ledger.items() if key[2] == "handled-day"}
    handled: dict[tuple[str, date], int] = defaultdict(int)
    for call in _calls():
        handled[(call["Agent"], date.fromisoformat(call["Date"]))] += 1
    assert {(agent, day): amount for (agent, day, _, _), amount in daily.items()} == {
        key: _cents(min(count, 20) / 2) for key, count in handled.items()
    }


def test_a_period_pays_once_its_correction_window_has_passed(tmp_path):
    clock = Clock(APRIL_1)
    app = _app(tmp_path, "april", clock)
    _import(app)  # all of Q1 arrives on 1 April: each period's 7-day window runs from then
    assert _period_ledger(app) == {}
    # an operator closes the part of the backfill that is final: periods ending by 14 March
    badges.close_due(app.engine, app.history, clock, through=date(2021, 3, 14))
    by_14_march = expected_points(date(2021, 3, 14))
    assert _period_ledger(app) == by_14_march
    assert not any(rule == "csat-month" and day == date(2021, 3, 1) for _, day, rule in by_14_march)
    assert not any(rule == "talk-quarter" for _, _, rule in by_14_march)
    assert any(day == date(2021, 3, 8) for _, day, rule in by_14_march if rule == "handled-week")
    clock.now = datetime(2021, 4, 8, 12, tzinfo=UTC)  # the last day of the window of the arrival
    app.score()
    assert _period_ledger(app) == by_14_march
    clock.now = datetime(2021, 4, 9, 12, tzinfo=UTC)  # any scoring run closes what is due
    app.score()
    assert _period_ledger(app) == expected_points(date(2021, 3, 31))
    app.close()


def test_explained_on_the_period_first_day(after_q1):
    with after_q1.engine.connect() as connection:
        martha = people.by_display_name(connection, "Martha")
        assert martha is not None
        changes = profiles.changes(connection, martha.id, date(2021, 1, 1))
    sentences = {change.rule: explain(change.template, change.inputs, "en") for change in changes}
    assert sentences["csat-month"] == (
        "CSAT 3.54 over 171 surveys in the month 2021-01-01 to 2021-01-31 is between 3 (0 pts) and "
        "4 (50 pts): 27.19 pts, rule csat-month, program v1"
    )
    assert "in the quarter 2021-01-01 to 2021-03-31" in sentences["talk-quarter"]


def test_late_records_in_a_closed_period_are_a_reversal_and_a_replacement(after_q1, tmp_path):
    app = _app(tmp_path, "late", AFTER_Q1)
    late_day = date(2021, 1, 29)

    def on_time(record) -> bool:
        return not (record.subject.key == "Martha" and record.occurred_at.date() == late_day)

    _import(app, keep=on_time)
    _close_q1(app)
    first = _period_ledger(app)
    final = _period_ledger(after_q1)
    martha_january = ("Martha", date(2021, 1, 1), "csat-month")
    assert first[martha_january] != final[martha_january]
    _import(app)  # Martha's 29 January arrives after January closed
    assert net_points(app.engine) == net_points(after_q1.engine)
    with app.engine.connect() as connection:
        martha = people.by_display_name(connection, "Martha")
        assert martha is not None
        rows = connection.execute(
            select(PointsEntry.entry, PointsEntry.revision, PointsEntry.amount)
            .where(
                PointsEntry.person_id == martha.id,
                PointsEntry.rule == "csat-month",
                PointsEntry.business_day == date(2021, 1, 1),
            )
            .order_by(PointsEntry.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("award", 1, first[martha_january]),
        ("reversal", 2, -first[martha_january]),
        ("award", 2, final[martha_january]),
    ]
    app.close()


def test_rescore_twice_writes_nothing_more(tmp_path):
    app = _app(tmp_path, "rescore", AFTER_Q1)
    _import(app)
    _close_q1(app)
    before = net_points(app.engine)
    rescore(app.engine, app.program, app.history, app.clock, date(2021, 1, 1))
    assert net_points(app.engine) == before
    again = rescore(app.engine, app.program, app.history, app.clock, date(2021, 1, 1))
    assert again.ledger_rows == 0
    app.close()


def test_whatif_gives_what_a_recomputation_under_the_proposed_rules_gives(after_q1, tmp_path):
    proposed_text = PROGRAM.replace("[[3.0, 0], [4.0, 50]]", "[[3.3, 0], [3.6, 60]]")
    proposed = parse_program(proposed_text, "proposed.yaml").program
    before = net_points(after_q1.engine)
    result = whatif(
        after_q1.engine,
        after_q1.history,
        proposed,
        period=Period.MONTH,
        at=date(2021, 1, 15),
        today=date(2021, 5, 1),
    )
    assert net_points(after_q1.engine) == before
    recomputed = _app(tmp_path, "proposed", AFTER_Q1, proposed_text)
    _import(recomputed)
    _close_q1(recomputed)
    january = defaultdict(int)
    for (agent, day, _, _), amount in net_points(recomputed.engine).items():
        if date(2021, 1, 1) <= day <= date(2021, 1, 31):
            january[agent] += amount
    assert {row.name: round(row.points_then * 100) for row in result.rows} == dict(january)
    assert any(row.rank_now != row.rank_then for row in result.rows)
    recomputed.close()
