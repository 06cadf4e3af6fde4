"""Column-wise rollup deltas are the per-record contributions summed, to the unit, or decline the records."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.column_rollups import add_fact_columns
from bot.services.rollup_deltas import RollupDeltas

NUMBERS = st.one_of(
    st.none(),
    st.floats(min_value=-1e6, max_value=1e7, allow_nan=False),
    st.sampled_from([0.0, 19.5, 20.0, 20.0000001, 0.5, 2.5, 1e-7, 1234.5678]),
)
BOOLS = st.one_of(st.none(), st.booleans())
FACTS = st.fixed_dictionaries(
    {},
    optional={
        "answered": BOOLS,
        "abandoned": BOOLS,
        "resolved": BOOLS,
        "wait": NUMBERS,
        "talk": NUMBERS,
        "handle": NUMBERS,
        "hold": NUMBERS,
        "acw": NUMBERS,
        "rating": NUMBERS,
        "nps": NUMBERS,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    records=st.lists(
        st.tuples(st.integers(1, 3), st.integers(1, 3), FACTS),
        min_size=1,
        max_size=30,
    ),
    service_level=st.sampled_from([20.0, 0.0, 19.5]),
)
def test_fact_columns_sum_to_the_record_contributions(records, service_level):
    keys = sorted({key for _, _, facts in records for key in facts})
    subject_ids = [subject for subject, _, _ in records]
    days = [date(2021, 1, day) for _, day, _ in records]
    columns = {key: [facts.get(key) for _, _, facts in records] for key in keys}
    by_columns = RollupDeltas(service_level)
    taken = add_fact_columns(by_columns, subject_ids, days, columns)
    by_records = RollupDeltas(service_level)
    by_records.add_many(
        subject_ids,
        days,
        [{k: v for k, v in facts.items() if v is not None} or None for *_, facts in records],
        [None] * len(records),
    )
    if taken:
        assert sorted(by_columns.rows()) == sorted(by_records.rows())
        assert by_columns.days() == by_records.days()
    else:
        assert by_columns.rows() == [] and by_columns.days() == []
        assert any(facts.get("nps") is not None for *_, facts in records)
