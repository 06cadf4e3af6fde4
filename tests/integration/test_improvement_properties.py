"""Properties of improvement rules (DESIGN.md §5), with hypothesis: records arriving late, out of order,
redelivered or corrected give an equal ledger; replay changes nothing; stored baselines match the rollups."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.feeds.records import KpiRecord, SubjectRef
from bot.scoring.improvement import Baseline, Window
from bot.services.baselines import compute_baselines
from bot.services.ledger import net_points, rollup_sums
from bot.services.rescore import rescore
from bot.services.rollups import rebuild
from bot.store.models import StoredBaseline
from tests.conftest import make_app
from tests.integration.test_ingest_properties import _unique_contacts

AGENTS = ("Ana", "Ben")
START = datetime(2021, 3, 1, 9, tzinfo=UTC)
PROGRAM = """\
metrics:
  aht: {min_samples: 1}
  csat: {min_samples: 1}
points:
  - {id: csat-day, metric: csat, zones: [[3, 0], [5, 10]]}
  - id: aht-improve
    metric: aht
    improvement: {baseline_days: 3, baseline: calendar_days, per: 10, points: 1, cap: 15}
  - id: csat-improve
    metric: csat
    improvement: {baseline_days: 2, baseline: working_days, per: 0.1, points: 1}
    gate: {aht: {lte: 500}}
  - id: handled-improve
    metric: handled
    improvement: {baseline_days: 4, per: 1, points: 0.5}
daily_cap: 30
"""


@st.composite
def contact_versions(draw: st.DrawFn) -> list[KpiRecord]:
    """One contact's versions over ten days: answered calls with handle times and ratings, perhaps voided."""
    index = draw(st.integers(min_value=0, max_value=60))
    when = START + timedelta(days=draw(st.integers(0, 9)), minutes=index)
    agent = SubjectRef("agent", draw(st.sampled_from(AGENTS)))
    versions = []
    for version in range(1, draw(st.integers(1, 2)) + 1):
        facts = {
            "answered": True,
            "handle": draw(st.integers(120, 700)),
            "rating": draw(st.one_of(st.none(), st.integers(1, 5))),
        }
        versions.append(KpiRecord("acd", f"c{index}", agent, when, version=version, facts=facts))
    if draw(st.integers(0, 4)) == 0:
        versions.append(KpiRecord("acd", f"c{index}", agent, when, version=len(versions) + 1, void=True))
    return versions


def _state(tmp_path, name: str, deliveries: list[list[KpiRecord]]) -> tuple[dict, dict]:
    program = tmp_path / "program.yaml"
    program.write_text(PROGRAM, encoding="utf-8")
    app = make_app(f"sqlite:///{tmp_path / name}.db", program_file=program)
    for chunk in deliveries:
        app.ingest([chunk], source="acd", origin="test", create_unknown=True)
    state = net_points(app.engine), rollup_sums(app.engine)
    _assert_baselines_match_the_rollups(app.engine)
    assert rebuild(app.engine, app.program).changed == 0
    assert rescore(app.engine, app.program, app.history, app.clock, date(2021, 3, 1)).ledger_rows == 0
    assert net_points(app.engine) == state[0]
    app.close()
    return state


def _assert_baselines_match_the_rollups(engine) -> None:
    with engine.connect() as connection:
        stored = connection.execute(select(StoredBaseline)).all()
        windows = {w.key: w for w in (Window(3, False), Window(2, True), Window(4, True))}
        needed: dict = defaultdict(set)
        for row in stored:
            needed[(row.subject_id, row.business_day)].add((row.metric, windows[row.span]))
        fresh = compute_baselines(connection, needed)
    for row in stored:
        assert fresh[(row.subject_id, row.business_day)][(row.metric, row.span)] == Baseline(
            row.num, row.den, row.days
        )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    contacts=st.lists(contact_versions(), min_size=1, max_size=30),
    order=st.randoms(use_true_random=False),
    split=st.integers(1, 9),
)
def test_improvement_ledger_ignores_arrival_order_redelivery_and_chunking(
    tmp_path_factory, contacts, order, split
):
    tmp_path = tmp_path_factory.mktemp("improve")
    records = _unique_contacts(contacts)
    in_order = _state(tmp_path, "ordered", [sorted(records, key=lambda r: (r.occurred_at, r.version))])

    shuffled = records[:]
    order.shuffle(shuffled)
    redelivered = shuffled + shuffled[: len(shuffled) // 2]
    chunks = [redelivered[i : i + split] for i in range(0, len(redelivered), split)]
    assert _state(tmp_path, "shuffled", chunks) == in_order
    backwards = sorted(records, key=lambda r: (r.occurred_at, r.version), reverse=True)
    assert _state(tmp_path, "reverse", [[record] for record in backwards]) == in_order
