"""The KPI ledger's storage rules on SQLite and PostgreSQL: versions, rollups, constraints, migrations."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from bot.app import build
from bot.feeds.records import KpiRecord, SubjectRef
from bot.scoring.metrics import SCALE
from bot.services.rollups import rebuild
from bot.settings import load_settings
from bot.store.database import DatabaseNotReady
from bot.store.models import Identity, KpiRecordRow, ParkedRecord, Person, Rollup
from tests.conftest import fixed_clock

WHEN = datetime(2021, 1, 4, 10, tzinfo=UTC)
DAY = date(2021, 1, 4)


def _call(version: int, rating: float, *, void: bool = False, external_id: str = "call-1") -> KpiRecord:
    facts = {"answered": True, "talk": 100.0 * version, "rating": rating}
    return KpiRecord(
        "acd", external_id, SubjectRef("agent", "A1", "Ana"), WHEN, version=version, facts=facts, void=void
    )


def _ingest(app, *records: KpiRecord):
    _, counts, outcomes = app.ingest([list(records)], source="acd", origin="test", create_unknown=True)
    return counts, outcomes


def _rollup(app, metric: str) -> tuple[int, int] | None:
    with app.engine.connect() as connection:
        row = connection.execute(
            select(Rollup.num, Rollup.den).where(Rollup.metric == metric, Rollup.business_day == DAY)
        ).first()
    return None if row is None or (row.num == 0 and row.den == 0) else (row.num, row.den)


def _all_rollups(app) -> set[tuple]:
    columns = (Rollup.subject_id, Rollup.business_day, Rollup.metric, Rollup.num, Rollup.den)
    with app.engine.connect() as connection:
        return set(connection.execute(select(*columns).where(Rollup.den != 0)))


def _versions(app) -> dict[int, bool]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            select(KpiRecordRow.version, KpiRecordRow.is_current).where(KpiRecordRow.external_id == "call-1")
        )
        return dict(rows.all())


def test_the_highest_version_is_current_and_replaces_the_rollup(any_app):
    _ingest(any_app, _call(1, 3))
    assert _rollup(any_app, "csat") == (3 * SCALE, SCALE)
    counts, _ = _ingest(any_app, _call(2, 5))
    assert counts.imported == 1
    assert _versions(any_app) == {1: False, 2: True}
    assert _rollup(any_app, "csat") == (5 * SCALE, SCALE)
    assert _rollup(any_app, "talk_time") == (200 * SCALE, SCALE)


def test_an_equal_version_is_a_duplicate(any_app):
    _ingest(any_app, _call(1, 3))
    counts, outcomes = _ingest(any_app, _call(1, 3))
    assert (counts.duplicate, counts.imported) == (1, 0)
    assert [o.status for o in outcomes] == ["duplicate"]
    assert _rollup(any_app, "csat") == (3 * SCALE, SCALE)


def test_an_equal_version_with_other_content_is_refused_not_hidden(any_app):
    _ingest(any_app, _call(1, 3))
    counts, outcomes = _ingest(any_app, _call(1, 1))
    assert (counts.rejected, counts.duplicate, counts.imported) == (1, 0, 0)
    assert "already stored with different content" in (outcomes[0].reason or "")
    assert "send version 2" in (outcomes[0].reason or "")
    assert _rollup(any_app, "csat") == (3 * SCALE, SCALE)


def test_a_lower_version_is_stored_but_changes_nothing(any_app):
    _ingest(any_app, _call(3, 4))
    counts, outcomes = _ingest(any_app, _call(2, 1))
    assert counts.imported == 1
    assert "older than current version 3" in (outcomes[0].reason or "")
    assert _versions(any_app) == {3: True, 2: False}
    assert _rollup(any_app, "csat") == (4 * SCALE, SCALE)


def test_a_void_retracts_the_record(any_app):
    _ingest(any_app, _call(1, 4), _call(1, 2, external_id="call-2"))
    assert _rollup(any_app, "csat") == (6 * SCALE, 2 * SCALE)
    _ingest(any_app, _call(2, 4, void=True))
    assert _versions(any_app) == {1: False, 2: True}
    assert _rollup(any_app, "csat") == (2 * SCALE, SCALE)
    assert _rollup(any_app, "handled") == (SCALE, SCALE)


def test_incremental_rollups_equal_a_rebuild_from_the_records(any_app):
    _ingest(any_app, _call(1, 3), _call(1, 5, external_id="call-2"), _call(1, 2, external_id="call-3"))
    _ingest(any_app, _call(2, 4), _call(3, 1, external_id="call-3", void=True), _call(1, 5))
    _ingest(any_app, _call(2, 2, external_id="call-2"), _call(1, 1, external_id="call-2"))
    before = _all_rollups(any_app)
    report = rebuild(any_app.engine, any_app.program)
    assert report.changed == 0
    assert _all_rollups(any_app) == before
    assert _rollup(any_app, "csat") == (6 * SCALE, 2 * SCALE)  # call-1 v2 (4) + call-2 v2 (2); call-3 voided


def test_the_database_refuses_a_second_copy_of_a_record_version(any_app):
    _ingest(any_app, _call(1, 3))
    with any_app.engine.connect() as connection:
        row = connection.execute(
            select(KpiRecordRow.__table__).where(KpiRecordRow.external_id == "call-1")
        ).one()
    copy = {key: value for key, value in row._mapping.items() if key != "id"}
    with pytest.raises(IntegrityError), any_app.engine.begin() as connection:
        connection.execute(insert(KpiRecordRow), [copy])
    with any_app.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(KpiRecordRow)) == 1


def test_identities_and_parked_records_are_unique(any_app):
    _ingest(any_app, _call(1, 3))
    with any_app.engine.connect() as connection:
        person_id = connection.scalar(select(Person.id))
    with pytest.raises(IntegrityError), any_app.engine.begin() as connection:
        connection.execute(
            insert(Identity).values(person_id=person_id, kind="source", namespace="acd", key="A1")
        )
    parked = {
        "source": "acd",
        "external_id": "x",
        "version": 1,
        "subject_kind": "agent",
        "subject_key": "Z",
        "reason": "unknown",
        "record": {},
        "created_at": fixed_clock(),
    }
    with any_app.engine.begin() as connection:
        connection.execute(insert(ParkedRecord).values(**parked))
    with pytest.raises(IntegrityError), any_app.engine.begin() as connection:
        connection.execute(insert(ParkedRecord).values(**parked))


def test_an_unmigrated_database_is_refused_with_the_command_to_run(database_url):
    with pytest.raises(DatabaseNotReady) as caught:
        build(load_settings(database_url=database_url), clock=fixed_clock)
    assert "floorboard db upgrade" in str(caught.value)
    if database_url.startswith("sqlite"):  # the file does not exist: said so, and not created
        assert str(caught.value).startswith("no database at ")
        assert not Path(database_url.removeprefix("sqlite:///")).exists()
    else:
        assert "is not initialised" in str(caught.value)
