"""A program with a quality gate, a rule cap and a daily cap, end to end through ingest and the ledger."""

from datetime import UTC, date, datetime, timedelta

from bot.feeds.records import KpiRecord, SubjectRef
from bot.services.ledger import net_points
from tests.conftest import make_app

PROGRAM = """\
metrics:
  csat: {min_samples: 3}
  aht: {min_samples: 3, floor: 120}
points:
  - {id: csat-day, metric: csat, zones: [[3.5, 0], [4.2, 10], [4.8, 20]], cap: 12}
  - {id: aht-day, metric: aht, zones: [[600, 0], [420, 10], [300, 15]], gate: {csat: {gte: 3.8}}}
daily_cap: 20
"""


def _calls(agent: str, handle: int, ratings: list[int]) -> list[KpiRecord]:
    start = datetime(2021, 3, 2, 9, tzinfo=UTC)
    return [
        KpiRecord(
            "acd",
            f"{agent}-{i}",
            SubjectRef("agent", agent),
            start + timedelta(minutes=i),
            facts={"answered": True, "handle": handle, "rating": rating},
        )
        for i, rating in enumerate(ratings)
    ]


def test_gate_and_caps_shape_the_ledger(tmp_path):
    program = tmp_path / "program.yaml"
    program.write_text(PROGRAM, encoding="utf-8")
    app = make_app(f"sqlite:///{tmp_path / 'gates.db'}", program_file=program)
    records = (
        _calls("Quick-but-rude", 300, [3, 3, 4])  # AHT 15 pts, but CSAT 3.33 < 3.8: gate fails; CSAT 0 pts
        + _calls("Steady", 360, [4, 4, 4, 4])  # CSAT 4.0 → 7.14; AHT 12.5; 19.64 under the daily cap
        + _calls("Star", 300, [5, 5, 5])  # CSAT 5.0 → 20, capped 12; AHT 15, trimmed to 8 by the daily 20
    )
    app.ingest([records], source="acd", origin="test", create_unknown=True)
    day = date(2021, 3, 2)
    csat_steady = round((4.0 - 3.5) / 0.7 * 10 * 100)
    assert net_points(app.engine) == {
        ("Steady", day, "csat-day", app.version): csat_steady,
        ("Steady", day, "aht-day", app.version): 1250,
        ("Star", day, "csat-day", app.version): 1200,
        ("Star", day, "aht-day", app.version): 800,
    }
    app.close()
