"""`/me DATE` shows badges and streaks as they stood that day: awards earned later do not count, and a
streak shows the next tier's real goal. Expected values come from the PwC workbook's cells."""

from collections.abc import Iterator
from datetime import date

import pytest

from bot.app import Floorboard
from bot.feeds.mapping import load_mapping
from bot.feeds.tabular import parse_file
from bot.handlers.contract import Fields
from tests.conftest import make_app, shared_file
from tests.integration.test_badges import XLSX, ratings_from_workbook
from tests.unit.test_handlers_world import say

PROGRAM = """
metrics:
  csat: {min_samples: 1}
badges:
  - {id: csat-streak, name: CSAT streak, kind: streak, metric: csat, at_least: 3.5, days: 3}
  - {id: csat-run, name: CSAT run, kind: streak, metric: csat, at_least: 3.5, days: {bronze: 3, silver: 5}}
"""
GOALS = {("csat-streak", ""): 3, ("csat-run", "bronze"): 3, ("csat-run", "silver"): 5}


@pytest.fixture(scope="module")
def pwc(tmp_path_factory) -> Iterator[Floorboard]:
    folder = tmp_path_factory.mktemp("me-as-of")
    program = folder / "program.yaml"
    program.write_text(PROGRAM, encoding="utf-8")
    app = make_app(f"sqlite:///{folder / 'fb.db'}", program_file=program)
    parsed = parse_file(shared_file(XLSX), load_mapping("pwc-xlsx"), default_tz="UTC")
    app.ingest(parsed, source="pwc", origin="file", create_unknown=True)
    yield app
    app.close()


def _greg() -> tuple[dict[date, int], list[tuple[date, str, str]]]:
    """Greg's run of days with CSAT ≥ 3.5 on each working day, and every award as (day, badge, tier)."""
    days = ratings_from_workbook(shared_file(XLSX))["Greg"]
    runs: dict[date, int] = {}
    awards: list[tuple[date, str, str]] = []
    run = 0
    earned: set[tuple[str, str, int]] = set()
    for day in sorted(days):
        run = run + 1 if sum(days[day]) / len(days[day]) >= 3.5 else 0
        runs[day] = run
        for (badge, tier), goal in GOALS.items():
            if run == goal and (badge, tier, day.month) not in earned:
                earned.add((badge, tier, day.month))
                awards.append((day, badge, tier))
    return runs, awards


def _label(badge: str, tier: str) -> str:
    return "CSAT streak" if badge == "csat-streak" else f"{tier.title()} CSAT run"


def _me(app: Floorboard, day: date) -> dict[str, str]:
    [reply] = say(app, "Greg", f"/me {day.isoformat()}")
    return dict(next(segment for segment in reply.segments if isinstance(segment, Fields)).items)


def test_me_on_a_past_day_counts_only_the_awards_earned_by_then(pwc):
    runs, awards = _greg()
    day = date(2021, 3, 3)
    assert runs[day] == 2  # two days at 3.5 or more; March's first run of 3 comes on 8 March
    assert [(d, badge) for d, badge, _ in awards if d.month == 3] == [
        (date(2021, 3, 8), "csat-streak"),
        (date(2021, 3, 8), "csat-run"),
    ]
    by_then = [award for award in awards if award[0] <= day]
    fields = _me(pwc, day)
    last_day = [award for award in by_then if award[0] == by_then[-1][0]]  # either may be listed last
    assert fields["Badges"] in {f"{len(by_then)} earned; latest: {_label(*award[1:])}" for award in last_day}
    assert fields["Streaks"] == "CSAT streak 2 of 3 days, Bronze CSAT run 2 of 3 days"


def test_me_on_the_day_a_streak_is_earned_shows_the_next_tier_or_that_none_is_left(pwc):
    runs, awards = _greg()
    day = date(2021, 3, 8)
    assert runs[day] == 3
    fields = _me(pwc, day)
    assert fields["Badges"].startswith(f"{len([a for a in awards if a[0] <= day])} earned; latest: ")
    assert fields["Streaks"] == (
        "CSAT streak 3 days in a row, every tier earned this period, Silver CSAT run 3 of 5 days"
    )
