from datetime import date

from bot.scoring.leagues import LeagueRule, league_of

RULES = [
    LeagueRule("rookies", tenure_lt=90),
    LeagueRule("billing-pros", tenure_gte=90, skills=frozenset({"billing"})),
    LeagueRule("veterans", tenure_gte=90),
]


def test_first_matching_league_wins_on_the_day():
    on = date(2021, 3, 31)
    assert (
        league_of(RULES, hire_date=date(2021, 1, 15), role="agent", skills=[], teams=[], on=on) == "rookies"
    )
    assert league_of(
        RULES, hire_date=date(2020, 1, 1), role="agent", skills=["billing"], teams=[], on=on
    ) == ("billing-pros")
    assert league_of(RULES, hire_date=date(2020, 1, 1), role="agent", skills=["tech"], teams=[], on=on) == (
        "veterans"
    )


def test_tenure_is_counted_on_the_day_and_needs_a_hire_date():
    hired = date(2021, 1, 1)
    assert (
        league_of(RULES, hire_date=hired, role="agent", skills=[], teams=[], on=date(2021, 3, 31))
        == "rookies"
    )
    assert (
        league_of(RULES, hire_date=hired, role="agent", skills=[], teams=[], on=date(2021, 4, 1))
        == "veterans"
    )
    assert league_of(RULES, hire_date=None, role="agent", skills=[], teams=[], on=date(2021, 4, 1)) is None


def test_role_and_team_conditions():
    rules = [LeagueRule("north-agents", roles=frozenset({"agent"}), teams=frozenset({"north"}))]
    kwargs = {"hire_date": None, "skills": [], "on": date(2021, 1, 1)}
    assert league_of(rules, role="agent", teams=["north"], **kwargs) == "north-agents"
    assert league_of(rules, role="agent", teams=["south"], **kwargs) is None
    assert league_of(rules, role="supervisor", teams=["north"], **kwargs) is None
