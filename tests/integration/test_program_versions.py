"""Program versions: a file's `effective_from` puts it in force from a past day, `rescore` then applies it to
history; returning to an earlier program text makes it the version in force again."""

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from bot.cli import build_cli
from bot.feeds.records import KpiRecord, SubjectRef
from bot.program import Program
from bot.services import programs
from bot.services.ledger import net_points
from bot.store.models import ProgramVersion
from tests.conftest import fixed_clock, make_app, shared_file

XLSX = "tabular/pwc_call_center_original.xlsx"
V1 = """
name: Version one
metrics:
  csat: {min_samples: 1}
points:
  - {id: handled-day, metric: handled, zones: [[0, 0], [40, 10]]}
  - {id: csat-day, metric: csat, zones: [[1, 0], [5, 20]]}
"""
V2 = """
name: Version two
effective_from: 2021-02-01
metrics:
  csat: {min_samples: 1}
points:
  - {id: handled-day, metric: handled, zones: [[0, 0], [20, 10]]}
  - {id: csat-day, metric: csat, zones: [[3, 0], [5, 30]]}
"""


def _calls(path: Path) -> "Calls":
    """(agent, day) → answered calls and the ratings of the surveyed ones, read from the cells."""
    out: dict[tuple[str, date], tuple[int, list[int]]] = defaultdict(lambda: (0, []))
    workbook = load_workbook(path, read_only=True)
    rows = workbook["Sheet1"].iter_rows(values_only=True)
    header = next(rows)
    for values in rows:
        row = dict(zip(header, values, strict=True))
        if row["Answered (Y/N)"] != "Y":
            continue
        key = (row["Agent"], date.fromisoformat(row["Date"]))
        answered, ratings = out[key]
        if row["Satisfaction rating"] is not None:
            ratings = [*ratings, int(row["Satisfaction rating"])]
        out[key] = (answered + 1, ratings)
    workbook.close()
    return out


def _linear(value: Fraction, low: tuple[int, int], high: tuple[int, int]) -> Fraction:
    """Points on a two-point zone table, flat beyond its ends."""
    (x0, p0), (x1, p1) = low, high
    share = min(max((value - x0) / (x1 - x0), Fraction(0)), Fraction(1))
    return p0 + share * (p1 - p0)


def _hundredths(points: Fraction) -> int:
    """Hundredths of a point, half rounded up (these points are never negative)."""
    exact = Decimal(points.numerator * 100) / Decimal(points.denominator)
    return int(exact.quantize(Decimal(1), ROUND_HALF_UP))


def _run(url: str, program: Path, *args: str) -> str:
    env = {"FLOORBOARD_DATABASE_URL": url, "FLOORBOARD_PROGRAM_FILE": str(program), "COLUMNS": "200"}
    result = CliRunner().invoke(build_cli(), list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _ledger(url: str) -> dict[tuple[str, date, str, int], int]:
    engine = create_engine(url)
    try:
        return net_points(engine)
    finally:
        engine.dispose()


Calls = dict[tuple[str, date], tuple[int, list[int]]]


def _v1_everywhere(calls: Calls) -> dict[tuple[str, date, str, int], int]:
    return _expected(calls, v2_from=date.max)


def _expected(calls: Calls, v2_from: date = date(2021, 2, 1)) -> dict[tuple[str, date, str, int], int]:
    """Each rule's hundredths per agent-day: v1's zones before `v2_from`, v2's from it on."""
    out = {}
    for (agent, day), (answered, ratings) in calls.items():
        v2 = day >= v2_from
        handled = _linear(Fraction(answered), (0, 0), (20, 10) if v2 else (40, 10))
        amounts = {"handled-day": _hundredths(handled)}
        if ratings:
            mean = Fraction(sum(ratings), len(ratings))
            csat = _linear(mean, (3, 0), (5, 30)) if v2 else _linear(mean, (1, 0), (5, 20))
            amounts["csat-day"] = _hundredths(csat)
        for rule, amount in amounts.items():
            if amount:
                out[(agent, day, rule, 2 if v2 else 1)] = amount
    return out


def test_a_program_effective_from_a_past_day_is_applied_to_history_by_rescore(tmp_path):
    v1, v2 = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
    v1.write_text(V1, encoding="utf-8")
    v2.write_text(V2, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'fb.db'}"

    _run(url, v1, "db", "upgrade")
    rejects = str(tmp_path / "rejects.csv")
    _run(url, v1, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx", "--rejects", rejects)
    calls = _calls(shared_file(XLSX))
    before = _ledger(url)
    assert before == _v1_everywhere(calls)
    assert "effective from 2021-02-01" in _run(url, v2, "config", "check", str(v2))

    out = _run(url, v2, "rescore", "--from", "2021-01-01")
    assert "program v1 from the start, v2 from 2021-02-01" in out
    ledger = _ledger(url)
    assert ledger == _expected(calls)
    assert {key: amount for key, amount in ledger.items() if key[1] < date(2021, 2, 1)} == {
        key: amount for key, amount in before.items() if key[1] < date(2021, 2, 1)
    }  # January keeps exactly what v1 paid
    changed = [k for k in ledger if k[1] >= date(2021, 2, 1) and ledger[k] != before.get((*k[:3], 1))]
    assert len(changed) > 100  # v2 pays February on differently
    again = _run(url, v2, "rescore", "--from", "2021-01-01")  # applied once: nothing more to write
    assert "0 ledger rows written" in again
    assert _ledger(url) == ledger


def _record(n: int, day: date) -> KpiRecord:
    return KpiRecord(
        "acd",
        f"c{n}",
        SubjectRef("agent", "Ana"),
        datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
        facts={"answered": True, "talk": 200},
    )


def test_going_back_to_an_earlier_program_puts_it_in_force_again(tmp_path, database_url):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(V1, encoding="utf-8")
    second.write_text(
        V1.replace("Version one", "Version B").replace("[40, 10]", "[10, 10]"), encoding="utf-8"
    )
    url = database_url
    today = fixed_clock().date()

    a = make_app(url, program_file=first)
    assert a.version == 1
    a.close()
    b = make_app(url, program_file=second)
    assert (b.version, b.history.in_force(today).version) == (2, 2)
    b.close()
    back = make_app(url, program_file=first)
    assert back.version == 3  # the earlier text again, applied as a new version from today
    in_force = back.history.in_force(today)
    assert (in_force.version, in_force.program.name) == (3, "Version one")
    assert back.history.in_force(date(2021, 1, 1)).version == 1  # the past keeps what was in force
    back.ingest([[_record(1, today)]], source="acd", origin="t", create_unknown=True)
    # v1's handled zones pay 1 call 1/40 × 10 = 0.25 pts, recorded under the version that made them
    assert net_points(back.engine) == {("Ana", today, "handled-day", 3): 25}
    back.close()

    restart = make_app(url, program_file=first)  # the same text again: no new version
    assert restart.version == 3
    with restart.engine.connect() as connection:
        rows = connection.execute(
            select(ProgramVersion.version, ProgramVersion.effective_from).order_by(ProgramVersion.version)
        ).all()
    restart.close()
    assert [tuple(row) for row in rows] == [(1, programs.FIRST_DAY), (2, today), (3, today)]


def test_a_later_version_wins_from_its_day_even_over_one_dated_after_it():
    def version(number: int, start: date) -> programs.VersionedProgram:
        return programs.VersionedProgram(number, start, Program(name=f"v{number}"))

    history = programs.ProgramHistory(
        [version(1, programs.FIRST_DAY), version(2, date(2021, 3, 1)), version(3, date(2021, 2, 1))]
    )
    assert [history.in_force(day).version for day in (date(2021, 1, 31), date(2021, 2, 1))] == [1, 3]
    assert history.in_force(date(2021, 3, 15)).version == 3  # v3 was applied after v2: it replaced it
    assert history.timeline() == [(programs.FIRST_DAY, 1), (date(2021, 2, 1), 3)]
