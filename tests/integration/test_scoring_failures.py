"""One agent whose days cannot be scored holds up no one else, and the failure is reported, not swallowed."""

import hashlib
import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, insert, select

from bot.feeds.records import KpiRecord, SubjectRef
from bot.program import ProgramError, parse_program
from bot.services import audit, people
from bot.services import points as points_service
from bot.services.ledger import net_points
from bot.services.rescore import rescore
from bot.store.database import upgrade
from bot.store.models import Person, ProgramVersion, ScoreQueue, Subject
from tests.conftest import make_app

DAYS = [date(2021, 3, 1) + timedelta(days=n) for n in range(5)]


def _records() -> list[KpiRecord]:
    """Two answered calls a day for each agent, the same for all three."""
    out = []
    for agent in ("Ana", "Ben", "Cy"):
        for day in DAYS:
            for call in range(2):
                out.append(
                    KpiRecord(
                        "acd",
                        f"{agent}-{day}-{call}",
                        SubjectRef("agent", agent),
                        datetime(day.year, day.month, day.day, 10 + call, tzinfo=UTC),
                        facts={"answered": True, "talk": 200},
                    )
                )
    return out


def test_a_failing_agent_is_reported_and_leaves_the_others_scored_and_its_days_queued(
    any_app, monkeypatch, caplog
):
    app = any_app
    real_score = points_service._score

    def broken_for_ben(connection, agents, programs, clock, recompute=()):
        if "Ben" in people.names(connection, set(agents.values())).values():
            raise ValueError("points must be a finite number, got nan")
        return real_score(connection, agents, programs, clock, recompute)

    monkeypatch.setattr(points_service, "_score", broken_for_ben)
    with caplog.at_level(logging.ERROR, logger="bot.services.points"):
        app.ingest([_records()], source="acd", origin="t", create_unknown=True)

    # the default program's handled-day zones [[0, 0], [40, 10]] pay 2 contacts 2/40 × 10 = 0.5 pts
    assert net_points(app.engine) == {
        (agent, day, "handled-day", 1): 50 for agent in ("Ana", "Cy") for day in DAYS
    }
    with app.engine.connect() as connection:
        ben = connection.scalar(
            select(Subject.id)
            .join(Person, Person.id == Subject.person_id)
            .where(Person.display_name == "Ben")
        )
        queued = connection.execute(select(ScoreQueue.subject_id, ScoreQueue.business_day)).all()
        failures = audit.entries(connection, action_prefix="scoring.failed")
    assert sorted(queued) == [(ben, day) for day in DAYS]  # nothing lost: retried by the next run
    [failure] = failures
    assert failure.target == f"subject:{ben}"
    assert failure.details["agent"] == "Ben"
    assert failure.details["days"] == [day.isoformat() for day in DAYS]
    assert failure.details["error"] == "ValueError: points must be a finite number, got nan"
    [logged] = [r.getMessage() for r in caplog.records if r.name == "bot.services.points"]
    assert logged.startswith("scoring failed for Ben (subject ")
    assert "on 5 day(s): 2021-03-01, 2021-03-02, 2021-03-03, 2021-03-04, 2021-03-05" in logged

    monkeypatch.setattr(points_service, "_score", real_score)  # fixed: the next run scores Ben's days
    assert app.score() == len(DAYS)
    assert net_points(app.engine) == {
        (agent, day, "handled-day", 1): 50 for agent in ("Ana", "Ben", "Cy") for day in DAYS
    }
    with app.engine.connect() as connection:
        assert connection.execute(select(ScoreQueue.id)).all() == []


NAN_PROGRAM = """
metrics:
  csat: {min_samples: 1}
points:
  - {id: csat-day, metric: csat, zones: [[1, 0], [5, .nan]]}
  - {id: handled-day, metric: handled, zones: [[0, 0], [40, 10]]}
"""


def test_a_nan_stored_by_an_older_release_is_reported_and_a_dated_fix_rescores_it(tmp_path, caplog):
    """A version stored before NaN was refused still loads (history stays readable); the agents whose
    days it cannot score are reported and stay queued while the others are scored; a corrected program
    effective from before those days, then `rescore`, scores them."""
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as connection:  # as a release that let NaN through would have stored it
        connection.execute(
            insert(ProgramVersion).values(
                version=1,
                effective_from=date(1970, 1, 1),
                sha256=hashlib.sha256(NAN_PROGRAM.encode()).hexdigest(),
                content=NAN_PROGRAM,
                created_at=datetime(2021, 3, 1, tzinfo=UTC),
            )
        )
    engine.dispose()
    with pytest.raises(ProgramError, match=r"points\.0\.zones\.1\.1: must be a finite number, got nan"):
        parse_program(NAN_PROGRAM, "program.yaml")
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(NAN_PROGRAM.replace(".nan", "20"), encoding="utf-8")
    app = make_app(url, program_file=fixed)  # v2, from today (2021-04-01): March stays under v1
    rated = [
        KpiRecord(
            "acd",
            f"rated-{day}",
            SubjectRef("agent", "Ana"),
            datetime(day.year, day.month, day.day, 9, tzinfo=UTC),
            facts={"answered": True, "talk": 200, "rating": 4},
        )
        for day in DAYS
    ]
    with caplog.at_level(logging.ERROR, logger="bot.services.points"):
        app.ingest([rated + _records()], source="acd", origin="t", create_unknown=True)
    # Ben and Cy have no surveys: the NaN zone never touches them; 2 calls pay 2/40 × 10 = 0.5 pts
    assert net_points(app.engine) == {
        (agent, day, "handled-day", 1): 50 for agent in ("Ben", "Cy") for day in DAYS
    }
    with app.engine.connect() as connection:
        [failure] = audit.entries(connection, action_prefix="scoring.failed")
        assert len(connection.execute(select(ScoreQueue.id)).all()) == len(DAYS)
    assert failure.details["agent"] == "Ana"
    assert failure.details["error"] == "ValueError: points must be a finite number, got nan"
    app.close()

    dated = tmp_path / "dated.yaml"  # the fix, in force from before the broken days
    dated.write_text("effective_from: 2021-01-01\n" + fixed.read_text(encoding="utf-8"), encoding="utf-8")
    app = make_app(url, program_file=dated)
    assert app.version == 3
    rescore(app.engine, app.program, app.history, app.clock, date(2021, 3, 1))
    # Ana: 3 calls pay 3/40 × 10 = 0.75 pts; one 4-star survey pays (4 - 1) / 4 × 20 = 15 pts
    expected = {(agent, day, "handled-day", 3): 50 for agent in ("Ben", "Cy") for day in DAYS}
    expected |= {("Ana", day, "handled-day", 3): 75 for day in DAYS}
    expected |= {("Ana", day, "csat-day", 3): 1500 for day in DAYS}
    assert net_points(app.engine) == expected
    with app.engine.connect() as connection:
        assert connection.execute(select(ScoreQueue.id)).all() == []
    app.close()
