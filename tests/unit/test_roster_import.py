"""Roster import and export against a real database (SQLite, and PostgreSQL when it answers)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.feeds.records import KpiRecord, SubjectRef
from bot.scoring.periods import Period
from bot.services import parked
from bot.services.leaderboard import board
from bot.services.roster import RosterError, export_roster, import_roster, parse_roster, read_roster
from bot.store.models import AuditEntry, Identity, Person, Supervision, Team, TeamMembership
from tests.conftest import fixed_clock

TODAY = date(2021, 4, 1)
HEADER = "name,email,role,hire_date,team,team_from,team_to,supervises,skills,keys,team_name,team_timezone"
ROSTER = (
    f"{HEADER}\n"
    "Martha Jones,martha@example.com,agent,2019-03-04,billing,2021-01-01,,,phone;chat,"
    "pwc:Martha;slack:T1/U1,Billing,Europe/London\n"
    "Jim Beam,jim@example.com,agent,,billing,2021-01-01,,,,pwc:Jim,,\n"
    "Sue Boss,sue@example.com,supervisor,,,,,billing;support,,console:sue,,\n"
)


def _import(app, text: str, **kwargs):
    rows = parse_roster(text, "roster.csv")
    return import_roster(app.engine, rows, origin="roster.csv", today=TODAY, clock=fixed_clock, **kwargs)


def _count(app, model) -> int:
    with app.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)))


def _memberships(app) -> list[tuple[str, str, date, date | None]]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            select(Person.display_name, Team.key, TeamMembership.valid_from, TeamMembership.valid_to)
            .join(Person, Person.id == TeamMembership.person_id)
            .join(Team, Team.id == TeamMembership.team_id)
            .order_by(Person.display_name, TeamMembership.valid_from)
        )
        return [tuple(row) for row in rows]


def test_first_import_creates_everything_and_audits_it(any_app):
    report = _import(any_app, ROSTER)
    assert (report.people_created, report.people_updated, report.people_unchanged) == (3, 0, 0)
    assert report.identities_added == 4
    assert report.memberships_opened == 2
    assert report.teams_created == 2  # billing, and support (named only in supervises)
    assert report.supervisions_added == 2
    with any_app.engine.connect() as connection:
        team = connection.execute(select(Team.name, Team.timezone).where(Team.key == "billing")).one()
        assert tuple(team) == ("Billing", "Europe/London")
        martha = connection.execute(
            select(Person.hire_date, Person.skills, Person.role).where(Person.email == "martha@example.com")
        ).one()
        assert tuple(martha) == (date(2019, 3, 4), ["phone", "chat"], "agent")
        actors = set(connection.scalars(select(AuditEntry.actor)))
        assert actors == {"roster import"}
    assert _count(any_app, AuditEntry) == report.changes


def test_importing_the_same_file_twice_changes_nothing(any_app):
    _import(any_app, ROSTER)
    audits = _count(any_app, AuditEntry)
    again = _import(any_app, ROSTER)
    assert again.changes == 0
    assert again.people_unchanged == 3
    assert _count(any_app, AuditEntry) == audits


def test_export_then_import_is_a_no_op(any_app, tmp_path):
    _import(any_app, ROSTER)
    exported = tmp_path / "roster.csv"
    assert export_roster(any_app.engine, exported) == 3
    later = TODAY + timedelta(days=30)
    report = import_roster(
        any_app.engine, read_roster(exported), origin=str(exported), today=later, clock=fixed_clock
    )
    assert report.changes == 0
    assert report.people_unchanged == 3
    text = exported.read_text()
    assert "pwc:Martha;slack:T1/U1" in text
    assert "billing;support" in text


def test_a_team_move_closes_the_old_membership_and_opens_a_dated_one(any_app):
    _import(any_app, ROSTER)
    moved = ROSTER.replace(
        "Jim Beam,jim@example.com,agent,,billing,2021-01-01",
        "Jim Beam,jim@example.com,agent,,support,2021-02-15",
    )
    report = _import(any_app, moved)
    assert (report.memberships_closed, report.memberships_opened, report.people_updated) == (1, 1, 1)
    jim = [m for m in _memberships(any_app) if m[0] == "Jim Beam"]
    assert jim == [
        ("Jim Beam", "billing", date(2021, 1, 1), date(2021, 2, 15)),
        ("Jim Beam", "support", date(2021, 2, 15), None),
    ]
    assert _import(any_app, moved).changes == 0

    # team boards follow the dated membership: January on billing, late February on support
    records = [
        KpiRecord(
            "pwc",
            "c1",
            SubjectRef("agent", "Jim"),
            datetime(2021, 1, 20, 10, tzinfo=UTC),
            facts={"answered": True},
        ),
        KpiRecord(
            "pwc",
            "c2",
            SubjectRef("agent", "Jim"),
            datetime(2021, 2, 20, 10, tzinfo=UTC),
            facts={"answered": True},
        ),
    ]
    any_app.ingest([records], source="pwc", origin="test", create_unknown=False)
    with any_app.engine.connect() as connection:

        def names(team: str, at: date) -> list[str]:
            found = board(
                connection, any_app.program, metric="handled", period=Period.MONTH, at=at, team=team
            )
            return [entry.name for entry in found.entries]

        assert names("billing", date(2021, 1, 5)) == ["Jim Beam"]
        assert names("support", date(2021, 1, 5)) == []
        assert names("billing", date(2021, 2, 5)) == []
        assert names("support", date(2021, 2, 5)) == ["Jim Beam"]


def test_a_move_dated_before_the_current_membership_is_refused(any_app):
    _import(any_app, ROSTER)
    backwards = ROSTER.replace(
        "Jim Beam,jim@example.com,agent,,billing,2021-01-01",
        "Jim Beam,jim@example.com,agent,,support,2020-12-01",
    )
    with pytest.raises(RosterError, match=r"roster.csv:3: team_from 2020-12-01 must be after 2021-01-01"):
        _import(any_app, backwards)


def test_an_identity_bound_to_someone_else_is_an_error_naming_the_line(any_app):
    _import(any_app, ROSTER)
    audits = _count(any_app, AuditEntry)
    clash = (
        f"{HEADER}\n"
        "New Person,new@example.com,agent,,,,,,,pwc:Newbie\n"
        "Jim Beam,jim@example.com,agent,,,,,,,pwc:Martha\n"
    )
    with pytest.raises(RosterError) as caught:
        _import(any_app, clash)
    assert caught.value.problems == [
        "roster.csv:3: identity pwc:Martha is already bound to #1 Martha Jones, not to 'Jim Beam'"
    ]
    assert _count(any_app, AuditEntry) == audits  # nothing applied, not even the valid line
    assert _count(any_app, Person) == 3


def test_people_created_by_a_feed_are_matched_by_key_then_by_name(any_app):
    record = KpiRecord(
        "pwc",
        "c1",
        SubjectRef("agent", "Martha"),
        datetime(2021, 1, 4, 10, tzinfo=UTC),
        facts={"answered": True},
    )
    other = KpiRecord(
        "technion",
        "t1",
        SubjectRef("agent", "SHARON"),
        datetime(2021, 1, 4, 10, tzinfo=UTC),
        facts={"answered": True},
    )
    any_app.ingest([[record, other]], source="pwc", origin="test", create_unknown=True)
    assert _count(any_app, Person) == 2
    text = (
        f"{HEADER}\n"
        "Martha Jones,martha@example.com,agent,,,,,,,pwc:Martha\n"
        "SHARON,sharon@example.com,agent,,,,,,,\n"
    )
    report = _import(any_app, text)
    assert (report.people_created, report.people_updated) == (0, 2)
    with any_app.engine.connect() as connection:
        people = dict(connection.execute(select(Person.display_name, Person.email)).all())
    assert people == {"Martha Jones": "martha@example.com", "SHARON": "sharon@example.com"}


def test_supervision_is_the_listed_set_and_dash_clears_it(any_app):
    _import(any_app, ROSTER)
    _import(any_app, ROSTER.replace("billing;support", "support"))
    with any_app.engine.connect() as connection:
        assert connection.scalars(
            select(Team.key).join(Supervision, Supervision.team_id == Team.id)
        ).all() == ["support"]
    report = _import(any_app, ROSTER.replace("billing;support", "-"))
    assert report.supervisions_removed == 1
    assert _count(any_app, Supervision) == 0


def test_a_dry_run_changes_nothing(any_app):
    report = _import(any_app, ROSTER, dry_run=True)
    assert report.people_created == 3
    assert _count(any_app, Person) == 0
    assert _count(any_app, AuditEntry) == 0


def test_parked_records_come_in_after_the_roster_adds_their_key(any_app):
    start = datetime(2021, 1, 4, 9, tzinfo=UTC)
    records = [
        KpiRecord(
            "acd",
            f"c{i}",
            SubjectRef("agent", "A-17"),
            start + timedelta(minutes=i),
            facts={"answered": True},
        )
        for i in range(5)
    ]
    _, counts, _ = any_app.ingest([records], source="acd", origin="test", create_unknown=False)
    assert (counts.parked, counts.imported) == (5, 0)
    assert [p.subject_key for p in parked.list_parked(any_app.engine)] == ["A-17"] * 5

    nothing = parked.replay(any_app.engine, any_app.ingestor, fixed_clock)
    assert (nothing.replayed, nothing.still_parked, nothing.resolved) == (5, 5, 0)

    _import(any_app, f"{HEADER}\nAnna Seventeen,anna@example.com,agent,,,,,,,acd:A-17\n")
    report = parked.replay(any_app.engine, any_app.ingestor, fixed_clock)
    any_app.score()
    assert (report.replayed, report.imported, report.still_parked) == (5, 5, 0)
    assert parked.list_parked(any_app.engine) == []
    assert len(parked.list_parked(any_app.engine, include_resolved=True)) == 5
    with any_app.engine.connect() as connection:
        found = board(connection, any_app.program, metric="handled", period=Period.DAY, at=date(2021, 1, 4))
    assert [(e.name, e.value) for e in found.entries] == [("Anna Seventeen", 5.0)]
    assert parked.replay(any_app.engine, any_app.ingestor, fixed_clock).replayed == 0


def test_chat_identities_are_stored_by_kind_and_namespace(any_app):
    _import(any_app, ROSTER)
    with any_app.engine.connect() as connection:
        kinds = set(connection.execute(select(Identity.kind, Identity.namespace, Identity.key)).all())
    assert kinds == {
        ("source", "pwc", "Martha"),
        ("slack", "T1", "U1"),
        ("source", "pwc", "Jim"),
        ("console", "console", "sue"),
    }
