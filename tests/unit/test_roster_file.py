"""Parsing roster rows and identity keys: no database needed."""

from datetime import date

import pytest

from bot.services.roster import KeyRef, RosterError, format_key, parse_key, parse_roster

HEADER = "name,email,role,hire_date,team,team_from,team_to,supervises,skills,keys"


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("pwc:Martha", KeyRef("source", "pwc", "Martha")),
        ("technion:SHARON", KeyRef("source", "technion", "SHARON")),
        (
            "connect:arn:aws:connect:eu:1:instance/x/agent/y",
            KeyRef("source", "connect", "arn:aws:connect:eu:1:instance/x/agent/y"),
        ),
        ("slack:T123/U456", KeyRef("slack", "T123", "U456")),
        ("discord:111/222", KeyRef("discord", "111", "222")),
        ("console:Martha", KeyRef("console", "console", "Martha")),
        ("console:lab/Martha", KeyRef("console", "lab", "Martha")),
    ],
)
def test_keys_parse_and_format_back(text, ref):
    assert parse_key(text) == ref
    assert format_key(ref) == text


@pytest.mark.parametrize("text", ["Martha", ":Martha", "pwc:", "slack:U456", "discord:/222"])
def test_malformed_keys_are_refused(text):
    with pytest.raises(ValueError, match=r"must look like|is not source:key"):
        parse_key(text)


def test_a_full_row_parses():
    text = (
        f"{HEADER},team_name,team_timezone,team_day_start\n"
        "Martha Jones,martha@example.com,Agent,2019-03-04,billing,2021-01-01,,,phone; chat,"
        "pwc:Martha;slack:T1/U1,Billing,Europe/London,04:30\n"
    )
    [row] = parse_roster(text, "roster.csv")
    assert row.line == 2
    assert (row.name, row.email, row.role, row.hire_date) == (
        "Martha Jones",
        "martha@example.com",
        "agent",
        date(2019, 3, 4),
    )
    assert (row.team, row.team_from, row.team_to) == ("billing", date(2021, 1, 1), None)
    assert row.supervises is None
    assert row.skills == ["phone", "chat"]
    assert row.keys == [KeyRef("source", "pwc", "Martha"), KeyRef("slack", "T1", "U1")]
    assert (row.team_name, row.team_timezone, row.team_day_start) == ("Billing", "Europe/London", 270)


def test_dash_clears_and_blank_keeps():
    [row] = parse_roster(f"{HEADER}\nAna,,,-,,,-,-,,\n", "r.csv")
    assert row.cleared == {"hire_date", "team_to", "supervises"}
    assert row.supervises == []
    assert row.skills is None
    assert row.hire_date is None


def test_every_bad_row_is_reported_with_its_line():
    text = (
        f"{HEADER}\n"
        "Ana,,boss,,,,,,,\n"
        "Ben,,agent,04/03/2019,,,,,,\n"
        ",,agent,,,,,,,\n"
        "Cy,,agent,,,,,,,Martha\n"
        "Dee,,agent,,,,,,,\n"
    )
    with pytest.raises(RosterError) as caught:
        parse_roster(text, "r.csv")
    problems = caught.value.problems
    assert [p.split(":")[1] for p in problems] == ["2", "3", "4", "5"]
    assert "role 'boss'" in problems[0]
    assert "hire_date must be a date as YYYY-MM-DD" in problems[1]
    assert "name is required" in problems[2]
    assert "is not source:key" in problems[3]


def test_unknown_columns_and_bad_zones_are_refused():
    with pytest.raises(RosterError, match="unknown column"):
        parse_roster("name,mail\nAna,a@x\n", "r.csv")
    with pytest.raises(RosterError, match=r"r\.csv:2: team_timezone 'Mars/Olympus'"):
        parse_roster("name,team,team_timezone\nAna,t,Mars/Olympus\n", "r.csv")


def test_every_bad_cell_of_a_row_is_reported_together_and_good_rows_are_kept():
    text = (
        "name,role,hire_date,team_from,team_to,keys,team_timezone,team_day_start\n"
        ",boss,04/03/2019,2021-13-01,soon,nokey;pwc:Ok,Mars/Olympus,25:99\n"
        "Dee,agent,2020-01-02,,,pwc:Dee,,\n"
    )
    with pytest.raises(RosterError) as caught:
        parse_roster(text, "r.csv")
    assert caught.value.problems == [
        "r.csv:2: name is required; role 'boss' must be one of agent, supervisor, admin; "
        "hire_date must be a date as YYYY-MM-DD, got '04/03/2019'; "
        "team_from must be a date as YYYY-MM-DD, got '2021-13-01'; "
        "team_to must be a date as YYYY-MM-DD, got 'soon'; "
        "key 'nokey' is not source:key (for example pwc:Martha); "
        "team_timezone 'Mars/Olympus' is not an IANA zone such as Europe/London; "
        "team_day_start must be a time of day as HH:MM, got '25:99'"
    ]
    [kept] = caught.value.rows or []
    assert (kept.line, kept.name, kept.hire_date, kept.keys) == (
        3,
        "Dee",
        date(2020, 1, 2),
        [KeyRef("source", "pwc", "Dee")],
    )
