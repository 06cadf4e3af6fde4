"""Improvement rules end to end: a late record rescores the days whose baselines hold it (both databases)."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.feeds.records import KpiRecord, SubjectRef
from bot.services.ledger import net_points
from bot.services.rescore import rescore
from bot.store.models import PointsEntry
from tests.cli_support import cli
from tests.conftest import make_app
from tests.unit.test_handlers_world import say, text

PROGRAM = """\
metrics:
  aht: {min_samples: 1, floor: 120}
points:
  - id: aht-improve
    metric: aht
    improvement: {baseline_days: 3, baseline: calendar_days, per: 10, points: 1}
"""
DAY1 = date(2021, 3, 1)


def _call(agent: str, day: date, n: int, handle: int) -> KpiRecord:
    when = datetime(day.year, day.month, day.day, 10, n, tzinfo=UTC)
    return KpiRecord(
        "acd",
        f"{agent}-{day}-{n}",
        SubjectRef("agent", agent),
        when,
        facts={"answered": True, "handle": handle},
    )


def _calls() -> tuple[list[KpiRecord], KpiRecord]:
    days = [DAY1 + timedelta(days=offset) for offset in range(3)]
    records = [
        _call("Ana", day, n, handle)
        for day, handle in zip(days, (400, 300, 250), strict=True)
        for n in (1, 2)
    ]
    return records, _call("Ana", DAY1, 3, 200)


def _program(tmp_path):
    path = tmp_path / "program.yaml"
    path.write_text(PROGRAM, encoding="utf-8")
    return path


def test_a_late_record_rescores_the_following_days_with_reversal_and_replacement(database_url, tmp_path):
    records, late = _calls()
    app = make_app(database_url, program_file=_program(tmp_path))
    app.ingest([records], source="acd", origin="test", create_unknown=True)
    v = app.version
    day2, day3 = DAY1 + timedelta(days=1), DAY1 + timedelta(days=2)
    # day 2: 300 s vs 400 s → 10 pts; day 3: 250 s vs (2×400 + 2×300)/4 = 350 s → 10 pts
    assert net_points(app.engine) == {
        ("Ana", day2, "aht-improve", v): 1000,
        ("Ana", day3, "aht-improve", v): 1000,
    }

    app.ingest([[late]], source="acd", origin="test", create_unknown=True)
    # the 200 s call on day 1 moves both later baselines: day 2 vs (800 + 200)/3 = 333.33 s → 3.33 pts;
    # day 3 vs (1000 + 600)/5 = 320 s → 7 pts
    after = {("Ana", day2, "aht-improve", v): 333, ("Ana", day3, "aht-improve", v): 700}
    assert net_points(app.engine) == after
    with app.engine.connect() as connection:
        rows = connection.execute(
            select(PointsEntry.business_day, PointsEntry.revision, PointsEntry.entry, PointsEntry.amount)
            .where(PointsEntry.business_day == day3)
            .order_by(PointsEntry.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        (day3, 1, "award", 1000),
        (day3, 2, "reversal", -1000),
        (day3, 2, "award", 700),
    ]

    in_order = make_app(f"sqlite:///{tmp_path / 'in-order.db'}", program_file=_program(tmp_path))
    in_order.ingest([[late, *records]], source="acd", origin="test", create_unknown=True)
    assert net_points(in_order.engine) == after

    report = rescore(app.engine, app.program, app.history, app.clock, DAY1)
    assert report.ledger_rows == 0 and net_points(app.engine) == after
    app.close()
    in_order.close()


def test_voiding_a_day_moves_the_baselines_after_it(tmp_path):
    records, _ = _calls()
    app = make_app(f"sqlite:///{tmp_path / 'void.db'}", program_file=_program(tmp_path))
    app.ingest([records], source="acd", origin="test", create_unknown=True)
    voids = [
        KpiRecord(r.source, r.external_id, r.subject, r.occurred_at, version=2, void=True)
        for r in records
        if r.occurred_at.date() == DAY1
    ]
    app.ingest([voids], source="acd", origin="test", create_unknown=True)
    # day 2 has no baseline left; day 3: 250 s vs 300 s → 5 pts
    assert net_points(app.engine) == {("Ana", DAY1 + timedelta(days=2), "aht-improve", app.version): 500}
    app.close()


def test_explain_prints_the_improvement_sentence(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'explain.db'}"
    monkeypatch.setenv("FLOORBOARD_PROGRAM_FILE", str(_program(tmp_path)))
    records, late = _calls()
    app = make_app(url, program_file=_program(tmp_path))
    app.ingest([[*records, late]], source="acd", origin="test", create_unknown=True)
    app.close()
    out = cli(url, "explain", "--agent", "Ana", "--day", "2021-03-03")
    assert (
        "+7.00 pts: AHT 4m 10s over 2 contacts vs your 3-day baseline 5m 20s over 5 contacts: 70 s better, "
        "7 pts at 1 pt per 10 s, rule aht-improve, program v1"
    ) in out.splitlines()


def test_config_check_names_the_key_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "points:\n  - id: aht-improve\n    metric: aht\n"
        "    improvement: {baseline_days: 0, per: 10, point: 1}\n",
        encoding="utf-8",
    )
    out = cli("sqlite:///:memory:", "config", "check", str(bad), code=1)
    assert f"{bad}:4: points.0.improvement.baseline_days: Input should be greater than or equal to 1" in out
    assert f"{bad}:4: points.0.improvement.point: unknown key" in out
    assert f"{bad}:4: points.0.improvement.points: Field required" in out


def test_points_why_shows_the_reversal_and_the_new_baseline_after_a_late_record(tmp_path):
    records, late = _calls()
    app = make_app(f"sqlite:///{tmp_path / 'why.db'}", program_file=_program(tmp_path))
    app.ingest([records], source="acd", origin="test", create_unknown=True)
    app.ingest([[late]], source="acd", origin="test", create_unknown=True)
    [why] = say(app, "Ana", "/points why 2021-03-03")
    lines = text(why).splitlines()
    assert any(
        "reversed 10 pts of rule aht-improve (program v1): the day's data changed" in line for line in lines
    )
    assert any(
        "AHT 4m 10s over 2 contacts vs your 3-day baseline 5m 20s over 5 contacts: 70 s better, "
        "7 pts at 1 pt per 10 s, rule aht-improve, program v1" in line
        for line in lines
    )
    app.close()
