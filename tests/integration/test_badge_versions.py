"""Badges follow the program version in force on the day they are earned: a badge a later version adds is
never earned before its `effective_from`, and one it drops keeps what the older version awarded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.app import Floorboard, build
from bot.feeds.records import KpiRecord, SubjectRef
from bot.services import badges
from bot.settings import load_settings
from bot.store.database import upgrade

V1 = """
name: Version one
metrics:
  csat: {min_samples: 1}
points:
  - {id: csat-day, metric: csat, zones: [[1, 0], [5, 20]]}
badges:
  - {id: steady, name: Steady, kind: streak, metric: csat, at_least: 3.5, days: 2}
"""
V2 = """
name: Version two
effective_from: 2021-02-01
metrics:
  csat: {min_samples: 1}
points:
  - {id: csat-day, metric: csat, zones: [[1, 0], [5, 20]]}
badges:
  - {id: happy-streak, name: Happy streak, kind: streak, metric: csat, at_least: 3.5, days: 3}
"""
# Monday 25 January to Wednesday 3 February: three good days, a bad one that breaks the run, three good
RATINGS = {
    date(2021, 1, 25): 5,
    date(2021, 1, 26): 5,
    date(2021, 1, 27): 5,
    date(2021, 1, 28): 1,
    date(2021, 2, 1): 5,
    date(2021, 2, 2): 5,
    date(2021, 2, 3): 5,
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _record(n: int, day: date, rating: int) -> KpiRecord:
    return KpiRecord(
        "acd",
        f"c{n}",
        SubjectRef("agent", "Ana"),
        datetime(day.year, day.month, day.day, 10, tzinfo=UTC) + timedelta(minutes=n),
        facts={"answered": True, "talk": 200, "rating": rating},
    )


def _app(url: str, program: Path, clock: Clock) -> Floorboard:
    return build(load_settings(database_url=url, program_file=program), clock=clock)


def _awards(fb: Floorboard) -> list[tuple[str, str, date, int]]:
    with fb.engine.connect() as connection:
        return sorted(
            (item.badge, item.period_key, item.business_day, item.program_version)
            for item in badges.earned(connection)
        )


def test_each_day_earns_the_badges_of_the_version_in_force_on_it(database_url: str, tmp_path: Path) -> None:
    v1, v2 = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
    v1.write_text(V1, encoding="utf-8")
    v2.write_text(V2, encoding="utf-8")
    clock = Clock(datetime(2021, 2, 4, 12, tzinfo=UTC))  # every period still open
    upgrade(database_url)
    _app(database_url, v1, clock).close()
    fb = _app(database_url, v2, clock)
    assert [(v.version, v.effective_from) for v in fb.history.versions][1] == (2, date(2021, 2, 1))
    records = [_record(n, day, rating) for n, (day, rating) in enumerate(RATINGS.items())]
    fb.ingest([records], source="acd", origin="t", create_unknown=True)
    expected = [
        # v2's new streak only from 1 February: not on 27 January, though January's run reached 3 days
        ("happy-streak", "month:2021-02-01", date(2021, 2, 3), 2),
        # v1's streak, which v2 dropped, is still earned on the January day v1 governed (and not in February)
        ("steady", "month:2021-01-01", date(2021, 1, 26), 1),
    ]
    assert _awards(fb) == expected
    # the periods close with the same badges: day badges at close follow the same versions
    clock.now = datetime(2021, 3, 10, 12, tzinfo=UTC)
    assert badges.close_due(fb.engine, fb.history, clock) == ["month:2021-01-01", "month:2021-02-01"]
    assert _awards(fb) == expected
    fb.close()
