"""Moving an agent into a team with another clock moves their records' business days (DESIGN.md §2.8)."""

import json
from collections import Counter
from datetime import date, datetime, time, timedelta

import openpyxl
from sqlalchemy import insert, select

from bot.feeds.mapping import load_mapping
from bot.feeds.tabular import parse_file
from bot.scoring.periods import Period
from bot.services.leaderboard import board
from bot.services.rezone import rezone
from bot.services.rollups import rebuild
from bot.store.models import Identity, Team, TeamMembership
from tests.conftest import shared_file


def _dan_answered_calls(path) -> list[datetime]:
    sheet = openpyxl.load_workbook(path, read_only=True).active
    calls = []
    for row in list(sheet.iter_rows(values_only=True))[1:]:
        _, agent, day, clock, _, answered, *_ = row
        if agent == "Dan" and answered == "Y":
            calls.append(
                datetime.combine(date.fromisoformat(day), clock if isinstance(clock, time) else time())
            )
    return calls


def _dan_answered_per_local_day(path, offset_hours: int) -> Counter:
    return Counter((call + timedelta(hours=offset_hours)).date() for call in _dan_answered_calls(path))


def _handled(app, day: date) -> dict[str, int]:
    with app.engine.connect() as connection:
        result = board(connection, app.program, metric="handled", period=Period.DAY, at=day)
    return {entry.name: int(entry.value) for entry in result.entries}


def test_a_team_move_with_another_zone_moves_past_records(any_app):
    workbook = shared_file("tabular/pwc_call_center_original.xlsx")
    mapping = load_mapping("pwc-xlsx")
    any_app.ingest(
        parse_file(workbook, mapping, default_tz="UTC"), source="pwc", origin="file", create_unknown=True
    )
    utc_days = _dan_answered_per_local_day(workbook, 0)
    assert _handled(any_app, date(2021, 1, 1))["Dan"] == utc_days[date(2021, 1, 1)]

    with any_app.engine.begin() as connection:
        dan = connection.scalar(
            select(Identity.person_id).where(Identity.namespace == "pwc", Identity.key == "Dan")
        )
        team = connection.execute(
            insert(Team)
            .values(
                key="kiri", name="Kiritimati", timezone="Pacific/Kiritimati", day_start_minutes=0, channels={}
            )
            .returning(Team.id)
        ).scalar_one()
        connection.execute(
            insert(TeamMembership).values(person_id=dan, team_id=team, valid_from=date(2020, 1, 1))
        )

    report = rezone(any_app.engine, any_app.program, any_app.clock, [dan])
    any_app.score()
    kiri_days = _dan_answered_per_local_day(workbook, 14)
    assert report.moved > 0
    for day in (date(2021, 1, 1), date(2021, 1, 2), date(2021, 2, 15), date(2021, 3, 31)):
        assert _handled(any_app, day).get("Dan", 0) == kiri_days[day]
    assert rebuild(any_app.engine, any_app.program).changed == 0
    assert rezone(any_app.engine, any_app.program, any_app.clock).moved == 0


def test_a_roster_move_into_another_zone_rescores_through_the_cli(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from bot.cli import build_cli

    url = f"sqlite:///{tmp_path / 'fb.db'}"
    monkeypatch.setenv("FLOORBOARD_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    workbook = shared_file("tabular/pwc_call_center_original.xlsx")
    for args in (["db", "upgrade"], ["import", str(workbook), "--mapping", "pwc-xlsx"]):
        assert runner.invoke(build_cli(), args).exit_code == 0
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "name,team,team_from,team_timezone,keys\nDan,kiri,2020-01-01,Pacific/Kiritimati,pwc:Dan\n",
        encoding="utf-8",
    )
    result = runner.invoke(build_cli(), ["roster", "import", str(roster)])
    assert result.exit_code == 0, result.output
    expected = _dan_answered_per_local_day(workbook, 14)
    crossing = sum(
        (call + timedelta(hours=14)).date() != call.date() for call in _dan_answered_calls(workbook)
    )
    assert crossing > 0
    assert f"moved {crossing} records to another business day" in result.output
    board_json = runner.invoke(
        build_cli(), ["leaderboard", "-m", "handled", "-p", "day", "--at", "2021-01-02", "-f", "json"]
    )
    entries = {entry["agent"]: entry["value"] for entry in json.loads(board_json.output)["entries"]}
    assert entries["Dan"] == expected[date(2021, 1, 2)]
    rebuilt = runner.invoke(build_cli(), ["rollups", "rebuild"])
    assert "identical" in rebuilt.output
