"""Badges through the store: the PwC workbook (expected awards computed here from the raw cells), period
close and corrections inside the window, idempotent replay, arrival order, /badges and /me."""

import json
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from bot.app import build
from bot.cli import build_cli
from bot.feeds.records import KpiRecord, SubjectRef
from bot.handlers.contract import Fields, Table
from bot.services import badges
from bot.settings import load_settings
from bot.store.database import upgrade
from bot.store.models import BadgeAward, Person
from tests.conftest import shared_file
from tests.unit.test_handlers_world import adapter, text

XLSX = "tabular/pwc_call_center_original.xlsx"
PROGRAM = """
metrics:
  csat: {target: 3.5, min_samples: 1}
badges:
  - {id: happy-streak, name: Happy streak, kind: streak, metric: csat, at_least: 3.5,
     days: {bronze: 3, silver: 5, gold: 8}}
  - {id: csat-month, kind: threshold, metric: csat, period: month, min_samples: 50,
     at_least: {bronze: 3.3, silver: 3.45, gold: 3.55}}
  - {id: improver, kind: most_improved, metric: csat, period: month, min_samples: 50}
correction_window_days: 7
"""


def run(url: str, program: Path, *args: str) -> str:
    env = {"FLOORBOARD_DATABASE_URL": url, "FLOORBOARD_PROGRAM_FILE": str(program), "COLUMNS": "200"}
    result = CliRunner().invoke(build_cli(), list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def ratings_from_workbook(path: Path) -> dict[str, dict[date, list[float]]]:
    """Agent → business day → the satisfaction ratings of that day's answered calls, from the cells."""
    out: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    workbook = load_workbook(path, read_only=True)
    rows = workbook["Sheet1"].iter_rows(values_only=True)
    header = next(rows)
    for values in rows:
        row = dict(zip(header, values, strict=True))
        if row["Answered (Y/N)"] == "Y" and row["Satisfaction rating"] is not None:
            out[row["Agent"]][date.fromisoformat(row["Date"])].append(float(row["Satisfaction rating"]))
    workbook.close()
    return out


def expected_streaks(ratings: dict[str, dict[date, list[float]]]) -> set[tuple[str, str, str, str]]:
    tiers = (("bronze", 3), ("silver", 5), ("gold", 8))
    out = set()
    for agent, days in ratings.items():
        run = 0
        for day in sorted(days):
            mean = sum(days[day]) / len(days[day])
            run = run + 1 if mean >= 3.5 else 0
            for tier, goal in tiers:
                if run == goal:
                    out.add((agent, "happy-streak", tier, f"month:{day.replace(day=1).isoformat()}"))
    return out


def expected_months(ratings: dict[str, dict[date, list[float]]]) -> set[tuple[str, str, str, str]]:
    out = set()
    means: dict[tuple[str, int], float] = {}
    for agent, days in ratings.items():
        for month in (1, 2, 3):
            values = [r for day, rs in days.items() if day.month == month for r in rs]
            if len(values) >= 50:
                means[(agent, month)] = sum(values) / len(values)
    for (agent, month), mean in means.items():
        key = f"month:2021-{month:02d}-01"
        for tier, bound in (("bronze", 3.3), ("silver", 3.45), ("gold", 3.55)):
            if mean >= bound:
                out.add((agent, "csat-month", tier, key))
    for month in (2, 3):
        gains = {
            agent: round(means[(agent, month)] - means[(agent, month - 1)], 9)
            for agent in ratings
            if (agent, month) in means and (agent, month - 1) in means
        }
        top = max(gains.values())
        out |= {
            (a, "improver", "", f"month:2021-{month:02d}-01") for a, g in gains.items() if g == top and g > 0
        }
    return out


@pytest.fixture(scope="module")
def pwc(tmp_path_factory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("pwc-badges")
    program = folder / "program.yaml"
    program.write_text(PROGRAM, encoding="utf-8")
    url = f"sqlite:///{folder / 'fb.db'}"
    run(url, program, "db", "upgrade")
    rejects = str(folder / "pwc.rejects.csv")
    run(url, program, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx", "--rejects", rejects)
    # the records arrived today: a finished backfill closes its months at once instead of in a week
    assert "Closed " in run(url, program, "periods", "close", "--through", "2021-03-31")
    return url, program


def test_pwc_streaks_thresholds_and_most_improved_match_the_workbook(pwc):
    url, program = pwc
    ratings = ratings_from_workbook(shared_file(XLSX))
    fb = build(load_settings(database_url=url, program_file=program))
    got = badges.badge_set(fb.engine)
    fb.close()
    streaks = expected_streaks(ratings)
    assert {item for item in got if item[1] == "happy-streak"} == streaks
    assert {item for item in got if item[1] != "happy-streak"} == expected_months(ratings)
    assert len(streaks) >= 10 and any(tier == "gold" for _, _, tier, _ in streaks)


def test_pwc_explain_rescore_and_close_are_idempotent(pwc):
    url, program = pwc
    fb = build(load_settings(database_url=url, program_file=program))
    before = badges.badge_set(fb.engine)
    with fb.engine.connect() as connection:
        gold = next(
            item for item in badges.earned(connection) if item.badge == "happy-streak" and item.tier == "gold"
        )
        name = connection.scalar(select(Person.display_name).where(Person.id == gold.person_id))
    fb.close()
    out = run(url, program, "explain", "--agent", name, "--day", gold.business_day.isoformat())
    first = date.fromisoformat(gold.inputs["first"])
    assert (
        f"badge: Gold Happy streak: CSAT at least 3.50 on 8 working days in a row, {first.isoformat()} to "
        f"{gold.business_day.isoformat()}"
    ) in out
    assert "Rescored" in run(url, program, "rescore", "--from", "2021-01-01")
    assert "No period is due to close." in run(url, program, "periods", "close")
    fb = build(load_settings(database_url=url, program_file=program))
    assert badges.badge_set(fb.engine) == before
    with fb.engine.begin() as connection, pytest.raises(IntegrityError):
        connection.execute(
            insert(BadgeAward).values(
                person_id=gold.person_id,
                badge=gold.badge,
                tier=gold.tier,
                period_key=gold.period_key,
                business_day=gold.business_day,
                program_version=1,
                template="badge.streak",
                inputs={},
                awarded_at=datetime(2021, 4, 1, tzinfo=UTC),
            )
        )
    fb.close()


def test_pwc_whatif_shows_the_badges_a_stricter_streak_takes_away(pwc):
    url, program = pwc
    stricter = program.parent / "stricter.yaml"
    stricter.write_text(PROGRAM.replace("at_least: 3.5,", "at_least: 5,"), encoding="utf-8")
    out = run(
        url, program, "whatif", str(stricter), "--period", "month", "--at", "2021-01-15", "--format", "json"
    )
    agents = json.loads(out)["agents"]
    ratings = ratings_from_workbook(shared_file(XLSX))
    january = {item for item in expected_streaks(ratings) if item[3] == "month:2021-01-01"}
    lost = {(row["agent"], label) for row in agents for label in row["badges_lost"]}
    assert lost == {(a, f"happy-streak/{tier}@{key}") for a, _, tier, key in january}
    assert all(row["badges_gained"] == [] for row in agents)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _record(n: int, agent: str, day: date, rating: int, version: int = 1) -> KpiRecord:
    at = datetime(day.year, day.month, day.day, 10, tzinfo=UTC) + timedelta(minutes=n)
    return KpiRecord(
        "acd",
        f"c{n}",
        SubjectRef("agent", agent),
        at,
        version=version,
        facts={"answered": True, "talk": 200, "rating": rating},
    )


def _app(url: str, tmp_path: Path, clock: Clock, text: str = PROGRAM):
    program = tmp_path / "p.yaml"
    program.write_text(text, encoding="utf-8")
    upgrade(url)
    return build(load_settings(database_url=url, program_file=program), clock=clock)


def test_a_late_correction_inside_the_window_reevaluates_and_a_closed_period_is_final(database_url, tmp_path):
    clock = Clock(datetime(2021, 2, 3, 12, tzinfo=UTC))
    fb = _app(database_url, tmp_path, clock)
    days = [date(2021, 1, 25) + timedelta(days=i) for i in range(3)]
    fb.ingest(
        [[_record(i, "Ana", d, 5) for i, d in enumerate(days)]], source="acd", origin="t", create_unknown=True
    )
    streak = ("Ana", "happy-streak", "bronze", "month:2021-01-01")
    assert streak in badges.badge_set(fb.engine)
    # a correction inside the window (January's records arrived on 2021-02-03, so it closes 7 days after
    # that, not after 2021-01-31: it is final from 2021-02-11): the middle day drops to 2
    fb.ingest([[_record(1, "Ana", days[1], 2, version=2)]], source="acd", origin="t", create_unknown=True)
    assert streak not in badges.badge_set(fb.engine)
    with fb.engine.connect() as connection:
        [revoked] = connection.execute(select(BadgeAward.revoked_at)).all()
    assert revoked[0] is not None
    fb.ingest([[_record(1, "Ana", days[1], 4, version=3)]], source="acd", origin="t", create_unknown=True)
    assert streak in badges.badge_set(fb.engine)
    clock.now = datetime(2021, 2, 10, 12, tzinfo=UTC)  # the last day of the window of its arrival
    assert badges.close_due(fb.engine, fb.history, clock) == []
    clock.now = datetime(2021, 2, 11, 12, tzinfo=UTC)
    closed = badges.close_due(fb.engine, fb.history, clock)
    assert closed == ["month:2021-01-01"]  # the program has only monthly periods; February is open
    assert badges.close_due(fb.engine, fb.history, clock) == []
    # after close: a late correction still rescored for points, but January's badges are final
    fb.ingest([[_record(1, "Ana", days[1], 1, version=4)]], source="acd", origin="t", create_unknown=True)
    assert streak in badges.badge_set(fb.engine)
    fb.close()


def _records(seed: int) -> list[KpiRecord]:
    rng = random.Random(seed)
    out = []
    for n in range(90):
        agent = rng.choice(["Ana", "Ben", "Cy"])
        day = date(2021, 3, 1) + timedelta(days=rng.randint(0, 25))
        out.append(_record(n, agent, day, rng.choice([2, 4, 5, 5])))
    out += [_record(n, r.subject.key, r.occurred_at.date(), 5, version=2) for n, r in enumerate(out[:10])]
    return out


def _badges_after(url: str, tmp_path: Path, records: list[KpiRecord], chunk: int) -> set:
    clock = Clock(datetime(2021, 3, 28, 12, tzinfo=UTC))  # every period still open while records arrive
    fb = _app(url, tmp_path, clock, PROGRAM.replace("min_samples: 50", "min_samples: 3"))
    for start in range(0, len(records), chunk):
        fb.ingest([records[start : start + chunk]], source="acd", origin="t", create_unknown=True)
    open_set = badges.badge_set(fb.engine)
    clock.now = datetime(2021, 5, 1, 12, tzinfo=UTC)
    badges.close_due(fb.engine, fb.history, clock)
    result = (open_set, badges.badge_set(fb.engine))
    fb.close()
    return result


@given(st.integers(0, 10_000), st.integers(1, 40))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_arrival_order_and_replay_give_the_same_badges(tmp_path_factory, seed, chunk):
    records = _records(seed)
    folder = tmp_path_factory.mktemp("order")
    in_order = _badges_after(f"sqlite:///{folder / 'a.db'}", folder, records, 200)
    shuffled = records[:]
    random.Random(seed).shuffle(shuffled)
    assert _badges_after(f"sqlite:///{folder / 'b.db'}", folder, shuffled, chunk) == in_order
    assert _badges_after(f"sqlite:///{folder / 'c.db'}", folder, records + records, chunk) == in_order
    keys = [(a, b, t, k) for a, b, t, k in in_order[1]]
    assert len(keys) == len(set(keys))


def test_badges_and_me_in_chat(tmp_path):
    clock = Clock(datetime(2021, 1, 28, 12, tzinfo=UTC))
    fb = _app(f"sqlite:///{tmp_path / 'chat.db'}", tmp_path, clock)
    days = [date(2021, 1, 20) + timedelta(days=i) for i in range(6)]
    ratings = [5, 4, 4, 2, 4, 5]
    fb.ingest(
        [[_record(i, "Ana", d, r) for i, (d, r) in enumerate(zip(days, ratings, strict=True))]],
        source="acd",
        origin="t",
        create_unknown=True,
    )
    console = adapter(fb)
    [reply] = console.handle("/badges", actor=console.actor("Ana"))
    earned, upcoming = [s for s in reply.segments if isinstance(s, Table)]
    assert earned.rows == (("Bronze Happy streak", "month 2021-01-01 to 2021-01-31", "2021-01-22"),)
    rows = dict(upcoming.rows)
    assert rows["Silver Happy streak"] == "2 of 5 working days in a row"  # the run restarted on the 24th
    [me] = console.handle("/me", actor=console.actor("Ana"))
    fields = dict(next(s for s in me.segments if isinstance(s, Fields)).items)
    assert fields["Badges"] == "1 earned; latest: Bronze Happy streak"
    assert fields["Streaks"] == "Silver Happy streak 2 of 5 days"
    [why] = console.handle("/points why 2021-01-22", actor=console.actor("Ana"))
    assert (
        "badge: Bronze Happy streak: CSAT at least 3.50 on 3 working days in a row, 2021-01-20 to 2021-01-22"
        in text(why)
    )
    fb.close()


def test_history_imported_after_older_data_still_earns_its_badges(tmp_path):
    """Technion (2010) is imported first, then the PwC months (2021): history, closed by `periods close
    --through` once imported, earning all its badges."""
    program = tmp_path / "program.yaml"
    program.write_text(PROGRAM, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    run(url, program, "db", "upgrade")
    technion = shared_file("tabular/technion_anonymous_bank_callcenter_one_day.csv")
    rejects = tmp_path / "technion.rejects.csv"  # never the repository: the tests' cwd
    run(url, program, "import", str(technion), "--mapping", "technion", "--rejects", str(rejects))
    assert rejects.exists()
    # the Technion day (2010-08-01) has no surveys: no period with data for these badges to close
    assert "No period is due" in run(url, program, "periods", "close", "--through", "2010-12-31")
    run(url, program, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx", "--rejects", str(rejects))
    out = run(url, program, "periods", "close", "--through", "2021-03-31")
    assert "month:2021-01-01, month:2021-02-01, month:2021-03-01" in out
    fb = build(load_settings(database_url=url, program_file=program))
    got = badges.badge_set(fb.engine)
    fb.close()
    ratings = ratings_from_workbook(shared_file(XLSX))
    assert {item for item in got if item[1] == "happy-streak"} == expected_streaks(ratings)
    assert {item for item in got if item[1] != "happy-streak"} == expected_months(ratings)


def test_badges_under_a_program_without_badges(app):
    console = adapter(app)
    app.ingest([[_record(1, "Ana", date(2021, 3, 30), 5)]], source="acd", origin="t", create_unknown=True)
    [reply] = console.handle("/badges", actor=console.actor("Ana"))
    assert text(reply).endswith("This program defines no badges.")
    [me] = console.handle("/me", actor=console.actor("Ana"))
    assert "Badges" not in dict(next(s for s in me.segments if isinstance(s, Fields)).items)


def test_an_older_month_backfilled_after_a_later_one_closed_still_closes_with_its_badges(tmp_path):
    clock = Clock(datetime(2021, 2, 20, 12, tzinfo=UTC))
    fb = _app(f"sqlite:///{tmp_path / 'fb.db'}", tmp_path, clock)
    january = [_record(i, "Ana", date(2021, 1, 10) + timedelta(days=i), 5) for i in range(3)]
    fb.ingest([january], source="acd", origin="t", create_unknown=True)
    clock.now = datetime(2021, 2, 28, 12, tzinfo=UTC)  # 8 days after January's records arrived
    assert badges.close_due(fb.engine, fb.history, clock) == ["month:2021-01-01"]
    # December arrives after January closed: its own window runs from its arrival, 2021-02-28
    december = [_record(10 + i, "Ana", date(2020, 12, 10) + timedelta(days=i), 5) for i in range(5)]
    fb.ingest([december[:2]], source="acd", origin="t", create_unknown=True)
    clock.now = datetime(2021, 3, 5, 12, tzinfo=UTC)  # the rest of December, still inside that window
    fb.ingest([december[2:]], source="acd", origin="t", create_unknown=True)
    with fb.engine.connect() as connection:
        assert "month:2020-12-01" not in badges.closed_periods(connection)
    clock.now = datetime(2021, 3, 8, 12, tzinfo=UTC)
    fb.score()  # any scoring run closes what is due, even with nothing new
    got = badges.badge_set(fb.engine)
    assert {(b, t, k) for _, b, t, k in got if b == "happy-streak"} == {
        ("happy-streak", "bronze", "month:2021-01-01"),
        ("happy-streak", "bronze", "month:2020-12-01"),
        ("happy-streak", "silver", "month:2020-12-01"),  # the 5-day run spans both December batches
    }
    with fb.engine.connect() as connection:
        assert {"month:2020-12-01", "month:2021-01-01"} <= badges.closed_periods(connection)
    fb.close()
