"""Properties: points and coins are exact integers in hundredths, whatever the rule inputs or the order of
conversions (DESIGN.md §5)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from itertools import count
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from bot.program import CoinPolicy, Program
from bot.scoring.daily_points import RuleSpec, day_awards, period_awards
from bot.scoring.metrics import CATALOGUE, SCALE
from bot.scoring.progression import coins_earned
from bot.scoring.zones import hundredths
from bot.services import wallet
from bot.store.models import CoinEntry, Person, PointsEntry
from tests.conftest import make_app

NOW = datetime(2021, 4, 1, 12, tzinfo=UTC)
points_values = st.floats(min_value=-50, max_value=200, allow_nan=False).map(lambda x: round(x, 3))
zones = st.lists(
    st.tuples(st.floats(min_value=0, max_value=1000, allow_nan=False), points_values),
    min_size=2,
    max_size=5,
    unique_by=lambda pair: pair[0],
)
rules = st.builds(
    lambda metric, zones, weight, cap, min_samples: RuleSpec(
        f"{metric}-rule", metric, tuple(sorted(zones)), min_samples, weight=weight, cap=cap
    ),
    st.sampled_from(["csat", "aht", "fcr", "handled"]),
    zones,
    st.floats(min_value=0, max_value=5, allow_nan=False).map(lambda x: round(x, 2)),
    st.none() | st.floats(min_value=0.01, max_value=100, allow_nan=False),
    st.integers(1, 30),
)
sums = st.fixed_dictionaries(
    {
        metric: st.tuples(st.integers(0, 10**6), st.integers(1, 500)).map(
            lambda pair: (pair[0] * SCALE // 100, pair[1] * SCALE)
        )
        for metric in ("csat", "aht", "fcr", "handled")
    }
)


def _exact(award_points: float, amount: int) -> bool:
    """The explanation's points are the ledger amount to the hundredth, with no float drift."""
    return Decimal(str(award_points)) * 100 == amount


@given(
    st.lists(rules, min_size=1, max_size=5, unique_by=lambda rule: rule.metric),
    sums,
    st.none() | points_values,
)
def test_zone_awards_are_whole_hundredths_and_sum_exactly(specs, day_sums, daily_cap):
    cap = abs(daily_cap) if daily_cap else None
    awards = day_awards(specs, day_sums, 1, cap)
    for award in awards:
        assert isinstance(award.amount, int) and award.amount != 0
        assert _exact(award.inputs["points"], award.amount)
    total = sum(award.amount for award in awards)
    assert Decimal(total) / 100 == sum(Decimal(str(award.inputs["points"])) for award in awards)
    if cap is not None:
        assert total <= hundredths(cap)
    over_period = period_awards(specs, day_sums, 1, "month", date(2021, 1, 1), date(2021, 1, 31))
    assert all(isinstance(a.amount, int) and _exact(a.inputs["points"], a.amount) for a in over_period)


def test_the_sampled_metrics_span_ratios_and_totals():
    assert {CATALOGUE[m].kind for m in ("csat", "aht", "fcr", "handled")} == {"ratio", "total"}


rates = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
days = st.lists(st.integers(-5_000, 20_000), min_size=1, max_size=40)


@given(rates, days)
def test_coins_converted_day_by_day_carry_the_remainder_to_the_exact_floor(rate, amounts):
    """Converting after every day, each time the all-time total less what was already credited, sums to
    ⌊total × rate⌋ of the final total: no fraction is lost or made up on the way."""
    credited = total = 0
    for amount in amounts:
        total += amount
        credited += coins_earned(total, float(rate)) - credited
        assert isinstance(credited, int)
    assert credited == max(0, math.floor(total * Fraction(rate)))


def test_the_wallet_credits_exactly_the_floor_of_the_points_total(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'fb.db'}")
    serial = count(1)

    @settings(max_examples=25, deadline=None)
    @given(rates, days)
    def check(rate: Decimal, amounts: list[int]) -> None:
        program = Program(coins=CoinPolicy(per_point=float(rate)))
        n = next(serial)
        with app.engine.begin() as connection:
            person = connection.execute(
                insert(Person)
                .values(
                    display_name=f"Agent {n}",
                    role="agent",
                    skills=[],
                    attributes={},
                    public_boards=True,
                    created_at=NOW,
                )
                .returning(Person.id)
            ).scalar_one()
        for i, amount in enumerate(amounts):
            with app.engine.begin() as connection:
                connection.execute(
                    insert(PointsEntry).values(
                        person_id=person,
                        business_day=date(2021, 1, 1 + i % 28),
                        rule="csat-day",
                        program_version=1,
                        revision=i + 1,
                        entry="award" if amount >= 0 else "reversal",
                        amount=amount,
                        template="points.zone",
                        inputs={},
                        idempotency_key=f"{n}:{i}",
                        created_at=NOW,
                    )
                )
                wallet.wallet(connection, program, person, now=NOW)
        with app.engine.connect() as connection:
            earned = connection.scalar(
                select(func.sum(CoinEntry.amount)).where(
                    CoinEntry.person_id == person, CoinEntry.kind == "earned"
                )
            )
            shown = wallet.wallet(connection, program, person, now=NOW).balance
        assert int(earned or 0) == shown == max(0, math.floor(sum(amounts) * Fraction(rate)))

    try:
        check()
    finally:
        app.close()
