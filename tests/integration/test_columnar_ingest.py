"""The columnar import path stores exactly what the general per-record path stores (records, rejects,
rollups, ledger, parked records), on SQLite and PostgreSQL: bad rows, duplicates inside a chunk and across
chunks, conflicting redeliveries, re-imports, unknown agents, and agents whose dated team clocks differ."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert, text

from bot.app import Floorboard
from bot.feeds.mapping import load_mapping
from bot.feeds.records import KpiRecord
from bot.feeds.tabular import parse_file
from bot.store.models import Identity, Person, Team, TeamMembership
from tests.conftest import POSTGRES_ADMIN_URL, make_app
from tests.integration.test_ingest_properties import contact_versions

HEADER = (
    "call_id,agent,date,time,topic,answered (Y/N),resolved,speed_of_answer_in_seconds,"
    "AvgTalkDuration,SatisfactionRating"
)
AGENTS = ("Ana", "Ben", "Cy", "Dee")


@pytest.fixture
def two_urls(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty databases of the same kind: one for each path."""
    if database_url.startswith("sqlite"):
        yield database_url, f"sqlite:///{tmp_path / 'general.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_ADMIN_URL else "?"
    try:
        yield database_url, f"{POSTGRES_ADMIN_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _calls(seed: int, count: int, first_id: int) -> list[str]:
    """PwC DD/MM rows around midnight (so team clocks decide the day), answered and abandoned."""
    rng = random.Random(seed)
    lines = []
    for number in range(first_id, first_id + count):
        moment = datetime(2021, 1, 1, 20) + timedelta(minutes=rng.randint(0, 4 * 24 * 60))
        head = f"ID{number:05d},{rng.choice(AGENTS)},{moment:%d/%m/%Y},{moment:%H:%M:%S},Streaming"
        if rng.random() < 0.8:
            talk = f"00:{rng.randint(0, 6):02d}:{rng.randint(0, 59):02d}"
            rating = rng.choice(["", "1", "3", "4", "5", "4.5"])  # never 2: the conflicts below use it
            lines.append(f"{head},Y,{rng.choice('YN')},{rng.randint(5, 90)},{talk},{rating}")
        else:
            lines.append(f"{head},N,N,,,")
    return lines


def _first_file(path: Path) -> Path:
    lines = _calls(1, 60, 0)
    lines[5] = "ID90001,Ana,32/01/2021,10:00:00,Streaming,Y,Y,10,00:02:00,4"  # no such date
    lines[9] = "ID90002,,02/01/2021,10:00:00,Streaming,Y,Y,10,00:02:00,4"  # answered, no agent
    lines[13] = "ID90003,Ben,02/01/2021,10:00:00,Streaming,Y"  # too few fields
    lines[17] = "ID90004,Cy,02/01/2021,10:00:00,Streaming,Y,Y,ten,00:02:00,4"  # not a duration
    lines.insert(20, lines[19])  # the same call twice in one chunk
    lines.insert(40, lines[2])  # and again chunks later
    lines.insert(45, lines[30].rsplit(",", 1)[0] + ",2")  # ID00029 again, with another rating
    path.write_text("\r\n".join([HEADER, *lines]) + "\r\n", encoding="utf-8")
    return path


def _second_file(path: Path, first: Path) -> Path:
    old = first.read_text(encoding="utf-8").splitlines()[1:]
    lines = [*old[:10], *_calls(2, 25, 200), old[25].rsplit(",", 1)[0] + ",2", *old[50:]]
    lines.append("ID00300,Zed,03/01/2021,23:59:59,Streaming,Y,Y,8,00:03:00,5")  # an unknown agent
    path.write_text("\r\n".join([HEADER, *lines]) + "\r\n", encoding="utf-8")
    return path


def _team_clocks(app: Floorboard) -> None:
    """Ana works in New York with a 04:00 day start, then moves to Kiritimati; Ben is in Paris."""
    now = datetime(2021, 1, 1, tzinfo=UTC)
    with app.engine.begin() as connection:
        teams = {}
        for key, zone, start in (("ny", "America/New_York", 240), ("kiri", "Pacific/Kiritimati", 0),
                                 ("paris", "Europe/Paris", 0)):  # fmt: skip
            teams[key] = connection.execute(
                insert(Team)
                .values(key=key, name=key, timezone=zone, day_start_minutes=start, channels={})
                .returning(Team.id)
            ).scalar_one()
        for name, spans in (
            ("Ana", [("ny", date(2020, 1, 1), date(2021, 1, 3)), ("kiri", date(2021, 1, 3), None)]),
            ("Ben", [("paris", date(2020, 1, 1), None)]),
        ):
            person = connection.execute(
                insert(Person)
                .values(display_name=name, role="agent", skills=[], attributes={}, created_at=now)
                .returning(Person.id)
            ).scalar_one()
            connection.execute(
                insert(Identity).values(person_id=person, kind="source", namespace="pwc", key=name)
            )
            for team, start_day, end_day in spans:
                connection.execute(
                    insert(TeamMembership).values(
                        person_id=person, team_id=teams[team], valid_from=start_day, valid_to=end_day
                    )
                )


def _import(app: Floorboard, path: Path, *, columnar: bool, create_unknown: bool = True) -> tuple[Any, ...]:
    mapping = load_mapping("pwc-ddmm")
    _, counts, outcomes = app.ingest(
        parse_file(path, mapping, default_tz="UTC", chunk_size=7),
        source=mapping.source,
        origin="file",
        create_unknown=create_unknown,
        columnar=columnar,
    )
    return counts.as_dict(), outcomes


STORED = {
    "records": "SELECT source, external_id, version, subject_id, occurred_at, business_day, facts, metrics, "
    "void, is_current, batch_id, received_at FROM kpi_records ORDER BY source, external_id, version",
    "rollups": "SELECT subject_id, business_day, metric, num, den FROM rollups ORDER BY 1, 2, 3",
    "ledger": "SELECT person_id, business_day, rule, program_version, revision, entry, amount, template, "
    "inputs, idempotency_key FROM points_ledger ORDER BY idempotency_key",
    "parked": "SELECT source, external_id, version, subject_key, reason, record FROM parked_records "
    "ORDER BY external_id",
    "subjects": "SELECT id, kind, namespace, key, person_id FROM subjects ORDER BY id",
    "queue": "SELECT subject_id, business_day FROM score_queue",
}


def _stored(app: Floorboard) -> dict[str, list[tuple[Any, ...]]]:
    """Every table an import writes, as the driver returns it (on SQLite: the stored text)."""
    with app.engine.connect() as connection:
        return {name: [tuple(row) for row in connection.exec_driver_sql(sql)] for name, sql in STORED.items()}


def test_a_columnar_import_stores_what_the_general_path_stores(two_urls, tmp_path):
    first = _first_file(tmp_path / "first.csv")
    second = _second_file(tmp_path / "second.csv", first)
    apps = {"columnar": make_app(two_urls[0]), "general": make_app(two_urls[1])}
    try:
        results: dict[str, list[Any]] = {}
        for name, app in apps.items():
            _team_clocks(app)
            columnar = name == "columnar"
            results[name] = [
                _import(app, first, columnar=columnar),
                _import(app, first, columnar=columnar),
                _import(app, second, columnar=columnar, create_unknown=False),
                _stored(app),
            ]
        assert results["columnar"] == results["general"]

        (counts, outcomes), (again, _), (later, later_outcomes), stored = results["columnar"]
        # 63 rows: 4 bad, a call repeated in its chunk, one repeated chunks later, ID00029 with other content
        assert counts == dict(read=63, imported=56, duplicate=2, rejected=5, parked=0, filtered=0)
        rejected = {o.external_id: o.reason for o in outcomes if o.status == "rejected"}
        assert set(rejected) == {"line 7", "line 11", "line 15", "line 19", "ID00029"}
        assert "already stored with different content" in (rejected["ID00029"] or "")
        assert again == dict(read=63, imported=0, duplicate=58, rejected=5, parked=0, filtered=0)
        # 10 old rows (2 bad), 25 new calls, an old call with another rating, 13 old rows, an unknown agent
        assert later == dict(read=50, imported=25, duplicate=21, rejected=3, parked=1, filtered=0)
        assert [o.external_id for o in later_outcomes if o.status == "parked"] == ["ID00300"]
        assert stored["queue"] == []
        assert [row[3] for row in stored["parked"]] == ["Zed"]
        assert len(stored["records"]) == 56 + 25
        assert stored["ledger"] and stored["rollups"]
    finally:
        for app in apps.values():
            app.close()


def test_the_columnar_path_runs_on_first_sightings_only_when_asked(sqlite_url, tmp_path, monkeypatch):
    from bot.services import ingest

    calls: list[int] = []
    add_fact_columns = ingest.add_fact_columns
    monkeypatch.setattr(
        ingest,
        "add_fact_columns",
        lambda deltas, ids, *rest: calls.append(len(ids)) or add_fact_columns(deltas, ids, *rest),
    )
    first = _first_file(tmp_path / "first.csv")
    app = make_app(sqlite_url)
    _import(app, first, columnar=False)
    assert calls == []
    app.close()
    app = make_app(f"sqlite:///{tmp_path / 'columnar.db'}")
    _import(app, first, columnar=True)
    app.close()
    # 56 records stored: all but the repeated ids go through the columnar path, 7-row chunks at most
    assert 0 < max(calls) <= 7 and sum(calls) >= 50


def _deliveries(contacts: list[list[KpiRecord]], order: random.Random, split: int) -> list[list[KpiRecord]]:
    seen, records = set(), []
    for versions in contacts:
        if versions[0].external_id not in seen:
            seen.add(versions[0].external_id)
            records.extend(versions)
    order.shuffle(records)
    again = records[: len(records) // 2]
    return [records[i : i + split] for i in range(0, len(records), split)] + [again]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    contacts=st.lists(contact_versions(), min_size=1, max_size=25),
    order=st.randoms(use_true_random=False),
    split=st.integers(1, 9),
)
def test_versions_voids_and_redeliveries_store_the_same_on_both_paths(
    tmp_path_factory, contacts, order, split
):
    tmp_path = tmp_path_factory.mktemp("paths")
    chunks = _deliveries(contacts, order, split)
    stored = {}
    for columnar in (True, False):
        app = make_app(f"sqlite:///{tmp_path / str(columnar)}.db")
        outcomes = [
            app.ingest(chunks[:-1], source="acd", origin="test", create_unknown=True, columnar=columnar)[2],
            app.ingest([chunks[-1]], source="acd", origin="test", create_unknown=True, columnar=columnar)[2],
        ]
        stored[columnar] = outcomes, _stored(app)
        app.close()
    assert stored[True] == stored[False]
    # the redelivered half is all duplicates, on both paths
    assert {outcome.status for outcome in stored[True][0][1]} <= {"duplicate"}


def test_another_writer_mid_import_turns_the_own_records_shortcut_off(sqlite_url):
    """An import skips dedupe lookups for ids it never stored; a record someone else stores between two
    of its chunks must still be found, so an older version arriving later does not become current."""
    from bot.feeds.records import SubjectRef
    from bot.services.ingest import Ingestor

    app = make_app(sqlite_url)
    when = datetime(2021, 3, 1, 9, tzinfo=UTC)

    def call(external_id: str, version: int, rating: int) -> KpiRecord:
        facts = {"answered": True, "talk": 60.0, "rating": float(rating)}
        return KpiRecord("acd", external_id, SubjectRef("agent", "Ana"), when, version=version, facts=facts)

    importer = Ingestor(app.engine, app.program, app.clock)
    batch = importer.start_batch(source="acd", origin="file")
    assert [o.status for o in importer.ingest([call("a", 1, 5)], batch_id=batch, create_unknown=True)] == [
        "accepted"
    ]
    app.ingest([[call("x", 2, 1)]], source="acd", origin="webhook", create_unknown=True)
    late = importer.ingest([call("x", 1, 5), call("b", 1, 4)], batch_id=batch, create_unknown=True)
    assert [(o.status, o.reason) for o in late] == [
        ("accepted", "older than current version 2: stored, no effect"),
        ("accepted", None),
    ]
    with app.engine.connect() as connection:
        current = connection.exec_driver_sql(
            "SELECT external_id, version FROM kpi_records WHERE is_current ORDER BY external_id"
        ).all()
    assert [tuple(row) for row in current] == [("a", 1), ("b", 1), ("x", 2)]
    app.close()
