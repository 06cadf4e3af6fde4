"""History posted in many small batches, in any order, earns what one import earns (DESIGN.md §5): a period
closes a correction window after its first record arrived, not at once because it ended long ago."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.app import Floorboard, build
from bot.feeds.mapping import load_mapping
from bot.feeds.records import KpiRecord
from bot.feeds.tabular import parse_file
from bot.services import badges
from bot.services.ledger import net_points
from bot.settings import load_settings
from bot.store.database import upgrade
from tests.conftest import fixed_clock, shared_file
from tests.integration.test_badges import (
    PROGRAM,
    XLSX,
    expected_months,
    expected_streaks,
    ratings_from_workbook,
)

POINTS = """
points:
  - {id: csat-day, metric: csat, zones: [[3.0, 0], [4.0, 10]]}
  - {id: csat-month-points, metric: csat, period: month, zones: [[3.0, 0], [4.0, 50]]}
"""
WEBHOOK_BATCH = 1000  # the most records one POST /api/v1/events may carry


@pytest.fixture(scope="module")
def records() -> list[KpiRecord]:
    parsed = parse_file(shared_file(XLSX), load_mapping("pwc-xlsx"), default_tz="UTC")
    return [item for chunk in parsed for item in chunk if isinstance(item, KpiRecord)]


def _app(folder: Path, name: str) -> Floorboard:
    program = folder / "program.yaml"
    program.write_text(PROGRAM + POINTS, encoding="utf-8")
    url = f"sqlite:///{folder / name}.db"
    upgrade(url)
    return build(load_settings(database_url=url, program_file=program), clock=fixed_clock)


def _post(app: Floorboard, batches: Iterator[list[KpiRecord]]) -> tuple[set, dict]:
    """Each batch through the ingest as one webhook delivery, then the finished backfill closed."""
    for batch in batches:
        assert len(batch) <= WEBHOOK_BATCH
        app.ingest([batch], source="pwc", origin="webhook", create_unknown=True)
    badges.close_due(app.engine, app.history, app.clock, through=date(2021, 3, 31))
    return badges.badge_set(app.engine), net_points(app.engine)


def _by_day(records: list[KpiRecord]) -> dict[date, list[KpiRecord]]:
    days: dict[date, list[KpiRecord]] = defaultdict(list)
    for record in records:
        days[record.occurred_at.date()].append(record)
    return days


@pytest.fixture(scope="module")
def in_order(records, tmp_path_factory) -> tuple[set, dict]:
    app = _app(tmp_path_factory.mktemp("in-order"), "one")
    try:
        app.ingest([records], source="pwc", origin="file", create_unknown=True)  # one import, in order
        badges.close_due(app.engine, app.history, app.clock, through=date(2021, 3, 31))
        return badges.badge_set(app.engine), net_points(app.engine)
    finally:
        app.close()


def test_one_in_order_import_earns_every_badge_of_the_workbook(in_order):
    got, ledger = in_order
    ratings = ratings_from_workbook(shared_file(XLSX))
    streaks = expected_streaks(ratings)
    assert {item for item in got if item[1] == "happy-streak"} == streaks
    assert len(streaks) == 28  # counted from the cells by expected_streaks
    assert {item for item in got if item[1] != "happy-streak"} == expected_months(ratings)
    assert {rule for _, _, rule, _ in ledger} == {"csat-day", "csat-month-points"}


def test_day_by_day_in_reverse_gives_the_same_badges_and_ledger(records, in_order, tmp_path):
    days = _by_day(records)
    app = _app(tmp_path, "reversed-days")
    try:
        assert _post(app, (days[day] for day in sorted(days, reverse=True))) == in_order
    finally:
        app.close()


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reversed"])
def test_webhook_sized_batches_in_either_order_give_the_same_badges_and_ledger(
    records, in_order, tmp_path, reverse
):
    ordered = sorted(records, key=lambda record: record.occurred_at, reverse=reverse)
    batches = (ordered[start : start + WEBHOOK_BATCH] for start in range(0, len(ordered), WEBHOOK_BATCH))
    app = _app(tmp_path, "batches")
    try:
        assert _post(app, batches) == in_order
    finally:
        app.close()


def test_before_the_close_nothing_of_the_backfill_is_final(records, tmp_path):
    """Imported today, each month waits out its window from today: a later correction still counts."""
    app = _app(tmp_path, "open")
    try:
        app.ingest([records[:1000]], source="pwc", origin="webhook", create_unknown=True)
        with app.engine.connect() as connection:
            assert badges.closed_periods(connection) == set()
    finally:
        app.close()
