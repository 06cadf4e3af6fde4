import pytest

from bot.messages import explain
from bot.scoring.daily_points import Gate, RuleSpec, day_awards
from bot.scoring.metrics import SCALE

AHT = RuleSpec(
    "aht-day",
    "aht",
    ((300.0, 15.0), (420.0, 10.0), (600.0, 0.0)),
    10,
    floor=120,
    gates=(Gate("csat", 5, gte=3.8),),
)
CSAT = RuleSpec("csat-day", "csat", ((3.5, 0.0), (4.2, 10.0), (4.8, 20.0)), 5, cap=15)


def day(aht_seconds: float, calls: int, ratings: list[int]) -> dict[str, tuple[int, int]]:
    sums = {"aht": (round(aht_seconds * calls * SCALE), calls * SCALE)}
    if ratings:
        sums["csat"] = (sum(ratings) * SCALE, len(ratings) * SCALE)
    return sums


def test_aht_points_need_the_csat_gate():
    good_quality = day_awards([AHT], day(360, 20, [4, 4, 4, 5, 3]), version=1)  # CSAT 4.0 over 5
    assert [a.amount for a in good_quality] == [1250]  # 360 s is halfway from 420 (10) to 300 (15)
    gate = good_quality[0].inputs["gates"][0]
    assert gate == {"metric": "csat", "gte": 3.8, "lte": None, "value": 4.0, "samples": 5, "held": True}

    assert day_awards([AHT], day(360, 20, [3, 3, 4, 4, 3]), version=1) == []  # CSAT 3.4 < 3.8
    assert day_awards([AHT], day(360, 20, [5, 5]), version=1) == []  # 2 surveys < min_samples 5
    assert day_awards([AHT], day(360, 20, []), version=1) == []  # no surveys: the gate cannot hold


def test_call_dumping_earns_nothing_even_with_the_gate_held():
    assert day_awards([AHT], day(90, 40, [5, 5, 5, 5, 5]), version=1) == []  # under the 120 s floor


def test_rule_cap_and_daily_cap():
    [capped] = day_awards([CSAT], day(300, 10, [5] * 10), version=1)  # 20 pts, capped at 15
    assert capped.amount == 1500 and capped.inputs["uncapped"] == 20 and capped.inputs["cap"] == "rule_cap"

    both = day_awards([CSAT, AHT], day(300, 20, [5] * 10), version=1, daily_cap=25)
    assert [a.amount for a in both] == [1500, 1000]  # AHT's 15 trimmed to the 10 left of the daily 25
    assert both[1].inputs["cap"] == "daily_cap"
    assert sum(a.amount for a in both) == 2500


def test_explanations_name_the_gate_and_the_cap():
    [aht] = day_awards([AHT], day(360, 20, [4, 4, 4, 5, 3]), version=1)
    sentence = explain(aht.template, aht.inputs)
    assert sentence.endswith("rule aht-day, program v1; gate held: CSAT 4.00 ≥ 3.80")
    [csat] = day_awards([CSAT], day(300, 10, [5] * 10), version=1)
    assert "(capped by the rule from 20 pts)" in explain(csat.template, csat.inputs)


@pytest.mark.parametrize("aht_seconds", [130, 250, 300, 359, 421, 599, 700])
def test_gate_off_the_aht_rule_is_monotone_down(aht_seconds):
    ungated = RuleSpec("aht-day", "aht", AHT.zones, 10, floor=120)
    faster = day_awards([ungated], day(aht_seconds, 20, []), version=1)
    slower = day_awards([ungated], day(aht_seconds + 30, 20, []), version=1)
    amount = faster[0].amount if faster else 0
    assert amount >= (slower[0].amount if slower else 0)
