"""Badges, pure: streaks over working days, tiers, counts, personal bests, most improved; properties."""

import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messages import explain
from bot.program import ProgramError, parse_program
from bot.scoring.badges import (
    AgentDays,
    BadgeRule,
    close_awards,
    day_awards,
    period_key,
    progress,
    revocation,
)
from bot.scoring.metrics import SCALE
from bot.scoring.periods import Period

STREAK = BadgeRule(
    "five-star",
    "streak",
    "Five-star",
    Period.MONTH,
    "higher",
    metric="csat",
    bound=4.5,
    goals=(("bronze", 3), ("silver", 5)),
)


def csat(*ratings: float) -> dict[str, tuple[int, int]]:
    return {"csat": (round(sum(ratings) * SCALE), len(ratings) * SCALE)}


def day(n: int) -> date:
    return date(2021, 1, 4) + timedelta(days=n)


def test_days_without_data_neither_break_nor_extend_a_streak():
    # working days 0, 1, (no surveys on 2), a gap of 3 calendar days, 6, 7: five in a row at ≥ 4.5
    history = AgentDays(
        {
            day(0): csat(5, 4),
            day(1): csat(5),
            day(2): {"handled": (SCALE, SCALE)},
            day(6): csat(4.5),
            day(7): csat(5, 5),
            day(8): csat(5),
        }
    )
    awards = day_awards(STREAK, history, 1, "monday")
    assert [(a.tier, a.day, a.inputs["first"]) for a in awards] == [
        ("bronze", day(6), "2021-01-04"),
        ("silver", day(8), "2021-01-04"),
    ]
    assert {a.period_key for a in awards} == {"month:2021-01-01"}


def test_a_day_below_the_bound_breaks_the_streak_and_each_tier_comes_once_per_period():
    ratings = [5, 5, 3, 5, 5, 5, 2, 5, 5, 5, 5, 5]
    awards = day_awards(STREAK, AgentDays({day(i): csat(r) for i, r in enumerate(ratings)}), 1, "monday")
    # runs: 2, then 3 (bronze on day 5), then 5 (bronze again reached on day 9: same month, not twice)
    assert [(a.tier, a.day) for a in awards] == [("bronze", day(5)), ("silver", day(11))]


def test_thresholds_with_tiers_and_min_samples():
    rule = BadgeRule(
        "csat-month",
        "threshold",
        "CSAT month",
        Period.MONTH,
        "higher",
        min_samples=3,
        metric="csat",
        goals=(("bronze", 4.0), ("silver", 4.4), ("gold", 4.8)),
    )
    agents = {1: AgentDays({day(0): csat(5, 4), day(1): csat(4.5)}), 2: AgentDays({day(0): csat(5, 5)})}
    awards = close_awards(rule, agents, date(2021, 1, 1), date(2021, 1, 31), 3, "monday")
    assert set(awards) == {1}  # agent 2 has two surveys, under min_samples
    assert [(a.tier, a.inputs["value"]) for a in awards[1]] == [("bronze", 4.5), ("silver", 4.5)]
    assert awards[1][0].day == date(2021, 1, 31) and awards[1][0].inputs["version"] == 3


def test_counts_of_days_in_zone_and_kudos():
    zone = BadgeRule(
        "good-days",
        "count",
        "Good days",
        Period.WEEK,
        "higher",
        metric="csat",
        bound=4.0,
        goals=(("", 2),),
        of="days_in_zone",
    )
    history = AgentDays(
        {day(0): csat(4), day(1): csat(3), day(3): csat(5), day(7): csat(5)}, {day(1): 2, day(9): 1}
    )
    [award] = day_awards(zone, history, 1, "monday")
    assert (award.day, award.period_key) == (day(3), "week:2021-01-04")
    kudos = BadgeRule(
        "liked",
        "count",
        "Liked",
        Period.MONTH,
        "higher",
        goals=(("bronze", 2), ("silver", 3)),
        of="kudos_received",
    )
    assert [(a.tier, a.day) for a in day_awards(kudos, history, 1, "monday")] == [
        ("bronze", day(1)),
        ("silver", day(9)),
    ]


def test_personal_best_days_and_most_improved():
    best = BadgeRule("best", "personal_best", "Best", Period.DAY, "lower", metric="aht", goals=(("", 0),))
    aht = {day(i): {"aht": (seconds * SCALE, SCALE)} for i, seconds in enumerate([400, 420, 380, 390, 300])}
    assert [a.day for a in day_awards(best, AgentDays(aht), 1, "monday")] == [day(2), day(4)]
    improved = BadgeRule("up", "most_improved", "Up", Period.MONTH, "higher", metric="csat", goals=(("", 0),))
    jan, feb = date(2021, 1, 10), date(2021, 2, 10)
    agents = {
        1: AgentDays({jan: csat(3, 4), feb: csat(4)}),  # +0.5
        2: AgentDays({jan: csat(2), feb: csat(3)}),  # +1.0
        3: AgentDays({jan: csat(1), feb: csat(2)}),  # +1.0: a tie shares the badge
        4: AgentDays({feb: csat(5)}),  # no January: not a contender
    }
    awards = close_awards(improved, agents, date(2021, 2, 1), date(2021, 2, 28), 1, "monday")
    assert sorted(awards) == [2, 3]
    assert awards[2][0].inputs["gain"] == 1.0 and awards[2][0].inputs["contenders"] == 3


def test_progress_toward_the_next_tier():
    history = AgentDays({day(0): csat(5), day(1): csat(5), day(2): csat(5), day(3): csat(5)})
    standing = progress(STREAK, history, day(3), ["bronze"], "monday")
    assert (standing.tier, standing.current, standing.goal) == ("silver", 4.0, 5)
    assert period_key(Period.WEEK, date(2021, 1, 6), "sunday") == "week:2021-01-03"
    # a run of 4 that reached bronze in January needs a new run for February's bronze; silver is reachable
    late = AgentDays({date(2021, 1, 29) + timedelta(days=i): csat(5) for i in range(4)})
    standing = progress(STREAK, late, date(2021, 2, 1), [], "monday")
    assert (standing.tier, standing.current, standing.goal) == ("silver", 4.0, 5)
    broken = AgentDays(dict(late.days) | {date(2021, 2, 2): csat(1)})
    standing = progress(STREAK, broken, date(2021, 2, 2), [], "monday")
    assert (standing.tier, standing.current, standing.goal) == ("bronze", 0.0, 3)


days_ratings = st.dictionaries(
    st.integers(0, 60), st.lists(st.integers(1, 5), min_size=1, max_size=3), min_size=1, max_size=40
)


@given(days_ratings, st.randoms())
@settings(max_examples=60, deadline=None)
def test_properties_no_badge_twice_and_arrival_order_does_not_matter(ratings, rng: random.Random):
    items = [(day(n), csat(*values)) for n, values in ratings.items()]
    rules = [
        STREAK,
        BadgeRule(
            "good",
            "count",
            "Good",
            Period.WEEK,
            "higher",
            metric="csat",
            bound=4,
            goals=(("", 2),),
            of="days_in_zone",
        ),
        BadgeRule("pb", "personal_best", "PB", Period.DAY, "higher", metric="csat", goals=(("", 0),)),
        BadgeRule(
            "t", "threshold", "T", Period.DAY, "higher", metric="csat", goals=(("bronze", 3), ("gold", 5))
        ),
    ]
    in_order = [a for rule in rules for a in day_awards(rule, AgentDays(dict(items)), 1, "monday")]
    keys = [a.key for a in in_order]
    assert len(keys) == len(set(keys))
    shuffled = items[:]
    rng.shuffle(shuffled)
    again = [a for rule in rules for a in day_awards(rule, AgentDays(dict(shuffled)), 1, "monday")]
    assert sorted(again, key=lambda a: a.key) == sorted(in_order, key=lambda a: a.key)


def test_the_program_file_reports_badge_errors_with_key_path_and_line():
    text = """badges:
  - {id: ok, kind: streak, metric: csat, at_least: 4.5, days: {bronze: 3, silver: 5}}
  - id: falling
    kind: threshold
    metric: csat
    at_least: {bronze: 4.5, silver: 4.0}
  - {id: x, kind: wizard}
  - {id: y, kind: streak, metric: csat, days: 5}
  - {id: z, kind: count, of: kudos_received, count: {gold: 3, platinum: 9}}
correction_window_days: -1
"""
    with pytest.raises(ProgramError) as raised:
        parse_program(text, "p.yaml")
    lines = str(raised.value).splitlines()
    assert lines[0].startswith("p.yaml:6: badges.1.at_least: tier goals must rise")
    assert lines[1].startswith("p.yaml:7: badges.2.kind: 'wizard' is not known")
    assert lines[2] == "p.yaml:8: badges.3: give exactly one of at_least or at_most"
    assert lines[3].startswith("p.yaml:9: badges.4.count.platinum: 'platinum' is not known")
    assert lines[4].startswith("p.yaml:10: correction_window_days:")
    assert len(lines) == 5
    program = parse_program(text.split("  - id: falling")[0], "ok.yaml").program
    assert program.correction_window_days == 7 and program.badges[0].days == {"bronze": 3, "silver": 5}


def test_every_kind_of_award_explains_itself():
    history = AgentDays(
        {
            day(i): csat(r) | {"aht": (s * SCALE, SCALE)}
            for i, (r, s) in enumerate([(5, 400), (5, 380), (5, 390)])
        },
        {day(0): 2},
    )
    rules = [
        BadgeRule(
            "streak",
            "streak",
            "Streak",
            Period.MONTH,
            "higher",
            metric="csat",
            bound=4.5,
            goals=(("gold", 3),),
        ),
        BadgeRule("fast", "threshold", "Fast", Period.DAY, "lower", metric="aht", goals=(("", 390),)),
        BadgeRule("liked", "count", "Liked", Period.MONTH, "higher", goals=(("", 2),), of="kudos_received"),
        BadgeRule(
            "good",
            "count",
            "Good",
            Period.WEEK,
            "higher",
            metric="csat",
            bound=4,
            goals=(("", 2),),
            of="days_in_zone",
        ),
        BadgeRule("pb", "personal_best", "Best AHT", Period.DAY, "lower", metric="aht", goals=(("", 0),)),
    ]
    sentences = [
        explain(award.template, award.inputs)
        for rule in rules
        for award in day_awards(rule, history, 2, "monday")
    ]
    assert sentences == [
        "Gold Streak: CSAT at least 4.50 on 3 working days in a row, 2021-01-04 to 2021-01-06 "
        "(working days without enough data skipped), program v2",
        "Fast: AHT 6m 20s over 1 contact from 2021-01-05 to 2021-01-05 is at most 6m 30s, program v2",
        "Fast: AHT 6m 30s over 1 contact from 2021-01-06 to 2021-01-06 is at most 6m 30s, program v2",
        "Liked: 2 kudos received in the month, program v2",
        "Good: 2 working days with CSAT at least 4.00 in the week, program v2",
        "Best AHT: AHT 6m 20s from 2021-01-05 to 2021-01-05 beats the previous best of 6m 40s "
        "(from 2021-01-04), program v2",
    ]
    jan = {1: AgentDays({date(2021, 1, 5): csat(3, 4)}), 2: AgentDays({date(2021, 2, 5): csat(4)})}
    jan[1] = AgentDays(dict(jan[1].days) | {date(2021, 2, 5): csat(4, 5)})
    improved = BadgeRule(
        "up", "most_improved", "Most improved", Period.MONTH, "higher", metric="csat", goals=(("", 0),)
    )
    [award] = close_awards(improved, jan, date(2021, 2, 1), date(2021, 2, 28), 2, "monday")[1]
    assert explain(award.template, award.inputs) == (
        "Most improved: CSAT went from 3.50 to 4.50 in 2021-02-01 to 2021-02-28, the only agent with both "
        "periods, program v2"
    )


def test_challenges_won_count_per_period_with_tiers():
    champion = BadgeRule(
        id="champion",
        kind="count",
        name="Champion",
        period=Period.MONTH,
        direction="higher",
        goals=(("bronze", 1.0), ("silver", 2.0)),
        of="challenges_won",
    )
    jan_a, jan_b, feb = date(2021, 1, 15), date(2021, 1, 29), date(2021, 2, 26)
    history = AgentDays({}, wins={jan_a: 1, jan_b: 1, feb: 1})  # no KPI days needed
    awards = [(a.tier, a.period_key, a.day) for a in day_awards(champion, history, 3, "monday")]
    # two January wins: bronze then silver; February starts again from nothing
    assert awards == [
        ("bronze", "month:2021-01-01", jan_a),
        ("silver", "month:2021-01-01", jan_b),
        ("bronze", "month:2021-02-01", feb),
    ]
    now = progress(champion, history, date(2021, 2, 27), ["bronze"], "monday")
    assert (now.current, now.tier, now.goal) == (1.0, "silver", 2.0)
    silver = day_awards(champion, history, 3, "monday")[1]
    assert explain(silver.template, silver.inputs) == (
        "Silver Champion: 2 challenges won in the month, program v3"
    )


# --- why a revoked award no longer holds --------------------------------------------------------------


def _revoked(rule: BadgeRule, history: AgentDays, awarded: dict, earned_on: date, tier: str = "bronze"):
    template, inputs = revocation(rule, history, tier, awarded, earned_on, 2, "monday")
    return template, inputs, explain(template, inputs, "en")


def test_a_revoked_streak_names_the_first_day_of_its_run_that_now_fails():
    # the bronze run was days 0-2; day 1 was corrected to 3.0 and day 2 has a second, lower survey
    history = AgentDays({day(0): csat(5), day(1): csat(3), day(2): csat(5, 3)})
    awarded = {"first": day(0).isoformat(), "last": day(2).isoformat(), "days": 3}
    template, inputs, sentence = _revoked(STREAK, history, awarded, day(2))
    assert template == "badge.revoked.day"
    assert (inputs["day"], inputs["value"], inputs["samples"], inputs["bound"]) == ("2021-01-05", 3.0, 1, 4.5)
    assert sentence == (
        "Bronze Five-star (earned 2021-01-06) because the day's CSAT on 2021-01-05 changed to 3.00 over "
        "1 survey (correction), not at least 4.50, program v2"
    )


def test_a_streak_whose_run_lost_a_day_counts_what_is_left():
    # day 1's records were voided without leaving a row: two qualifying days remain of the three
    history = AgentDays({day(0): csat(5), day(2): csat(5)})
    awarded = {"first": day(0).isoformat(), "last": day(2).isoformat(), "days": 3}
    template, inputs, sentence = _revoked(STREAK, history, awarded, day(2))
    assert (template, inputs["held"], inputs["goal"]) == ("badge.revoked.run", 2, 3)
    assert sentence == (
        "Bronze Five-star (earned 2021-01-06) because the run 2021-01-04 to 2021-01-06 now has 2 working "
        "days with CSAT at least 4.50 (correction), not 3, program v2"
    )


def test_a_revocation_the_data_do_not_explain_is_put_on_the_program():
    # the run still holds on the data: the award went because the program's goals changed
    history = AgentDays({day(n): csat(5) for n in range(3)})
    awarded = {"first": day(0).isoformat(), "last": day(2).isoformat(), "days": 3}
    template, _, sentence = _revoked(STREAK, history, awarded, day(2))
    assert template == "badge.revoked.program"
    assert (
        sentence
        == "Bronze Five-star (earned 2021-01-06) because program v2 no longer awards it on the current data"
    )


def test_a_revoked_day_threshold_names_the_value_it_fell_to():
    rule = BadgeRule("fast", "threshold", "Fast day", Period.DAY, "lower", 1, "aht", goals=(("", 300.0),))
    history = AgentDays({day(0): {"aht": (2 * 330 * SCALE, 2 * SCALE)}})
    template, inputs, sentence = _revoked(rule, history, {"bound": 300.0}, day(0), tier="")
    assert (template, inputs["value"]) == ("badge.revoked.day", 330.0)
    assert sentence == (
        "Fast day (earned 2021-01-04) because the day's AHT on 2021-01-04 changed to 5m 30s over 2 contacts "
        "(correction), not at most 5m 00s, program v2"
    )
