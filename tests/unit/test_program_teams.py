"""The program's `teams` section: schedules are validated with the line and key of each problem."""

import re

import pytest

from bot.program import ProgramError, parse_program

GOOD = """
teams:
  blue:
    channels:
      - {platform: slack, channel: C0BLUE}
    daily_standings: {at: "17:30", days: [Monday, friday], dm_own_rank: true}
    weekly_recap: {at: "16:00", metrics: [csat, aht]}
    announcements: [level_up]
"""


def test_a_schedule_parses_with_weekday_names_and_defaults():
    posts = parse_program(GOOD, "p.yaml").program.teams["blue"]
    assert posts.daily_standings is not None and posts.daily_standings.days == ["monday", "friday"]
    assert posts.weekly_recap is not None and posts.weekly_recap.days == ["friday"]
    assert (posts.weekly_recap.weeks, posts.weekly_recap.grace_minutes) == (6, 180)
    assert posts.kudos_digest is None


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("days: [1, 2]", "p.yaml:6: teams.blue.daily_standings.days: days are weekday names"),
        ('at: "25:00"', "p.yaml:6: teams.blue.daily_standings.at: '25:00' must be a time of day as HH:MM"),
        (
            "metric: abandon_rate",
            "teams.blue.daily_standings.metric: ['abandon_rate'] are measured on queues",
        ),
    ],
)
def test_bad_schedules_name_the_line_and_key(bad, expected):
    text = GOOD.replace('at: "17:30", days: [Monday, friday], dm_own_rank: true', 'at: "17:30", ' + bad)
    if bad.startswith("at"):
        text = GOOD.replace('at: "17:30", days: [Monday, friday]', bad.replace("at:", "at:"))
    with pytest.raises(ProgramError) as error:
        parse_program(text, "p.yaml")
    assert expected in str(error.value)


def test_an_unknown_platform_is_refused():
    with pytest.raises(ProgramError, match=re.escape("teams.blue.channels.0.platform: 'teams' is not known")):
        parse_program(GOOD.replace("platform: slack", "platform: teams"), "p.yaml")
