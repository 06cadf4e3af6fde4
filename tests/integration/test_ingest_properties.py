"""Properties of ingest (DESIGN.md §2.2, §4, §5), with hypothesis: versions, voids, redeliveries and any
arrival order give the same rollups and ledger, and a rebuild from the records agrees."""

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.feeds.records import KpiRecord, SubjectRef
from bot.services.ledger import net_points, rollup_sums
from bot.services.rollups import rebuild
from tests.conftest import make_app

AGENTS = ("Ana", "Ben", "Cy")
START = datetime(2021, 3, 1, 9, tzinfo=UTC)


@st.composite
def contact_versions(draw: st.DrawFn) -> list[KpiRecord]:
    """One contact's versions: answered calls with ratings, abandons on a queue, and perhaps a void."""
    index = draw(st.integers(min_value=0, max_value=40))
    when = START + timedelta(days=draw(st.integers(0, 3)), minutes=index)
    versions = []
    for version in range(1, draw(st.integers(1, 3)) + 1):
        answered = draw(st.booleans())
        if answered:
            facts = {
                "answered": True,
                "abandoned": False,
                "wait": draw(st.integers(0, 120)),
                "talk": draw(st.integers(30, 600)),
                "resolved": draw(st.booleans()),
                "rating": draw(st.one_of(st.none(), st.integers(1, 5))),
            }
            subject = SubjectRef("agent", draw(st.sampled_from(AGENTS)))
        else:
            facts, subject = {"answered": False, "abandoned": True}, SubjectRef("queue", "main")
        versions.append(KpiRecord("acd", f"c{index}", subject, when, version=version, facts=facts))
    if draw(st.booleans()):
        last = versions[-1]
        versions.append(
            KpiRecord("acd", last.external_id, last.subject, when, version=last.version + 1, void=True)
        )
    return versions


def _unique_contacts(contacts: list[list[KpiRecord]]) -> list[KpiRecord]:
    seen, records = set(), []
    for versions in contacts:
        if versions[0].external_id not in seen:
            seen.add(versions[0].external_id)
            records.extend(versions)
    return records


def _state(tmp_path, name: str, deliveries: list[list[KpiRecord]]) -> tuple[dict, dict]:
    app = make_app(f"sqlite:///{tmp_path / name}.db")
    for chunk in deliveries:
        app.ingest([chunk], source="acd", origin="test", create_unknown=True)
    state = rollup_sums(app.engine), net_points(app.engine)
    assert rebuild(app.engine, app.program).changed == 0
    app.close()
    return state


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    contacts=st.lists(contact_versions(), min_size=1, max_size=25),
    order=st.randoms(use_true_random=False),
    split=st.integers(1, 7),
)
def test_order_redelivery_and_chunking_never_change_the_outcome(tmp_path_factory, contacts, order, split):
    tmp_path = tmp_path_factory.mktemp("prop")
    records = _unique_contacts(contacts)
    in_order = _state(tmp_path, "ordered", [records])

    shuffled = records[:]
    order.shuffle(shuffled)
    redelivered = shuffled + shuffled[: len(shuffled) // 2]
    chunks = [redelivered[i : i + split] for i in range(0, len(redelivered), split)]
    assert _state(tmp_path, "shuffled", chunks) == in_order


@settings(max_examples=15, deadline=None)
@given(contacts=st.lists(contact_versions(), min_size=1, max_size=25))
def test_only_the_highest_version_of_each_contact_counts(tmp_path_factory, contacts):
    tmp_path = tmp_path_factory.mktemp("latest")
    records = _unique_contacts(contacts)
    latest: dict[str, KpiRecord] = {}
    for record in records:
        if record.external_id not in latest or record.version > latest[record.external_id].version:
            latest[record.external_id] = record
    expected_handled: dict[str, int] = {}
    for record in latest.values():
        if not record.void and record.facts.get("answered"):
            expected_handled[record.subject.key] = expected_handled.get(record.subject.key, 0) + 1
    rollups, _ = _state(tmp_path, "latest", [records])
    handled: dict[str, int] = {}
    for (name, _, metric), (num, _) in rollups.items():
        if metric == "handled":
            handled[name] = handled.get(name, 0) + num // 1_000_000
    assert {name: count for name, count in handled.items() if count} == expected_handled
