"""A badge taken back by a correction says why, on the day it was taken: `floorboard explain` and
`/points why` print the sentence, from the template id and inputs stored with the revocation."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from bot.app import Floorboard, build
from bot.cli import build_cli
from bot.feeds.records import KpiRecord, SubjectRef
from bot.services import badges
from bot.services.batches import void_batch
from bot.settings import load_settings
from bot.store.database import upgrade
from bot.store.models import BadgeAward
from tests.unit.test_handlers_world import say, text

PROGRAM = """
metrics:
  csat: {min_samples: 1}
badges:
  - {id: happy-streak, name: Happy streak, kind: streak, metric: csat, at_least: 3.5, days: 3}
  - {id: liked, name: Well liked, kind: count, of: days_in_zone, metric: csat, at_least: 4.5, count: 3}
"""
DAYS = [date(2021, 1, 25) + timedelta(days=n) for n in range(3)]
CORRECTED_ON = date(2021, 2, 3)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _record(n: int, day: date, rating: int, version: int = 1) -> KpiRecord:
    return KpiRecord(
        "acd",
        f"c{n}",
        SubjectRef("agent", "Ana"),
        datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
        version=version,
        facts={"answered": True, "talk": 200, "rating": rating},
    )


def _app(tmp_path: Path, clock: Clock, url: str | None = None) -> tuple[Floorboard, Path, str]:
    program = tmp_path / "program.yaml"
    program.write_text(PROGRAM, encoding="utf-8")
    url = url or f"sqlite:///{tmp_path / 'fb.db'}"
    upgrade(url)
    return build(load_settings(database_url=url, program_file=program), clock=clock), program, url


def _explain(url: str, program: Path, day: date) -> list[str]:
    env = {"FLOORBOARD_DATABASE_URL": url, "FLOORBOARD_PROGRAM_FILE": str(program), "COLUMNS": "300"}
    result = CliRunner().invoke(build_cli(), ["explain", "--agent", "Ana", "--day", day.isoformat()], env=env)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_a_corrected_day_revokes_the_streak_and_explain_says_why_on_that_day(tmp_path, database_url):
    clock = Clock(datetime(2021, 1, 28, 12, tzinfo=UTC))
    fb, program, url = _app(tmp_path, clock, database_url)
    fb.ingest(
        [[_record(n, day, 5) for n, day in enumerate(DAYS)]], source="acd", origin="t", create_unknown=True
    )
    earned = {(badge, key) for _, badge, _, key in badges.badge_set(fb.engine)}
    assert earned == {("happy-streak", "month:2021-01-01"), ("liked", "month:2021-01-01")}

    clock.now = datetime(2021, 2, 3, 9, tzinfo=UTC)  # inside January's window: the middle day drops to 2
    fb.ingest([[_record(1, DAYS[1], 2, version=2)]], source="acd", origin="t", create_unknown=True)
    assert badges.badge_set(fb.engine) == set()
    with fb.engine.connect() as connection:
        rows = connection.execute(
            select(
                BadgeAward.badge,
                BadgeAward.revoked_day,
                BadgeAward.revoked_template,
                BadgeAward.revoked_inputs,
            ).order_by(BadgeAward.badge)
        ).all()
    assert [(badge, day, template) for badge, day, template, _ in rows] == [
        ("happy-streak", CORRECTED_ON, "badge.revoked.day"),
        ("liked", CORRECTED_ON, "badge.revoked.count"),
    ]
    streak_inputs = rows[0][3]
    assert {key: streak_inputs[key] for key in ("day", "value", "samples", "bound", "earned", "version")} == {
        "day": "2021-01-26",
        "value": 2.0,
        "samples": 1,
        "bound": 3.5,
        "earned": "2021-01-27",
        "version": 1,
    }

    lines = _explain(url, program, CORRECTED_ON)
    assert lines == [
        "badge revoked: Happy streak (earned 2021-01-27) because the day's CSAT on 2021-01-26 changed to "
        "2.00 over 1 survey (correction), not at least 3.50, program v1",
        "badge revoked: Well liked (earned 2021-01-27) because the month 2021-01-01 to 2021-01-31 now "
        "counts 2 of the 3 it needs (correction), program v1",
    ]
    assert not any("revoked" in line for line in _explain(url, program, DAYS[2]))  # not the day earned
    why = text(say(fb, "Ana", f"/points why {CORRECTED_ON.isoformat()}")[0])
    assert (
        "badge revoked: Happy streak (earned 2021-01-27) because the day's CSAT on 2021-01-26 changed to "
        "2.00 over 1 survey (correction), not at least 3.50, program v1"
    ) in why

    # corrected back: the badges are current again and nothing stays revoked on that day
    fb.ingest([[_record(1, DAYS[1], 5, version=3)]], source="acd", origin="t", create_unknown=True)
    assert {(badge, key) for _, badge, _, key in badges.badge_set(fb.engine)} == earned
    assert not any("revoked" in line for line in _explain(url, program, CORRECTED_ON))
    fb.close()


def test_a_voided_day_revokes_the_streak_with_the_day_left_without_surveys(tmp_path):
    clock = Clock(datetime(2021, 1, 28, 12, tzinfo=UTC))
    fb, program, url = _app(tmp_path, clock)
    fb.ingest(
        [[_record(0, DAYS[0], 4), _record(2, DAYS[2], 4)]], source="acd", origin="t", create_unknown=True
    )
    middle, _, _ = fb.ingest([[_record(1, DAYS[1], 4)]], source="acd", origin="t", create_unknown=True)
    assert {badge for _, badge, _, _ in badges.badge_set(fb.engine)} == {"happy-streak"}
    clock.now = datetime(2021, 2, 2, 12, tzinfo=UTC)
    void_batch(fb.engine, fb.program, middle, actor="test", clock=clock)
    fb.score()
    assert badges.badge_set(fb.engine) == set()
    assert _explain(url, program, date(2021, 2, 2)) == [
        "badge revoked: Happy streak (earned 2021-01-27) because the day 2021-01-26 now has 0 surveys of "
        "CSAT (correction), fewer than the 1 survey a day needs to count, program v1",
    ]
    fb.close()
