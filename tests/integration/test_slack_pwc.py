"""The PwC workbook through Slack: every number a Slack reply carries equals the console adapter's, and
the public board's values are the workbook's own averages (computed here from its cells)."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.adapters.slack.serving import attach
from bot.handlers.access import actor_for
from bot.handlers.commands import default_registry
from bot.handlers.context import HandlerContext
from bot.services import people
from bot.services.roster import import_roster, parse_roster
from bot.web.app import create_web_app
from bot.web.server import BackgroundServer
from tests.cli_support import cli
from tests.conftest import fixed_clock, make_app, shared_file
from tests.fakes.slack_api import FakeSlack
from tests.integration.test_real_data_pwc import XLSX, expected_from_workbook
from tests.slack_support import SlackDriver, slack_settings, text_of

NUMBER = re.compile(r"\d+(?:\.\d+)?")
ROSTER = """name,role,keys
Martha,agent,pwc:Martha;slack:T1/UMARTHA
Ann Admin,admin,slack:T1/UANN
"""
LINES = [
    ("UMARTHA", "/leaderboard csat month 2021-01-15"),
    ("UMARTHA", "/leaderboard fcr quarter 2021-01-15"),
    ("UMARTHA", "/leaderboard asa month 2021-03-15"),
    ("UMARTHA", "/leaderboard handled month 2021-02-15"),
    ("UMARTHA", "/points"),
    ("UMARTHA", "/me month 2021-02-15"),
    ("UANN", "/leaderboard talk_time month 2021-01-15 full"),
]


@pytest.fixture(scope="module")
def pwc(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('slack-pwc') / 'fb.db'}"
    cli(url, "db", "upgrade")
    cli(url, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx")
    return url


STAMP = re.compile(r"as of \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def _numbers(text: str) -> list[str]:
    """The numbers in order; the "as of" stamp (wall-clock time of rendering) becomes a marker."""
    return NUMBER.findall(STAMP.sub("as of STAMP", text)) + ["stamp"] * len(STAMP.findall(text))


def _console(fb, user_name: str, line: str) -> list[list[str]]:
    adapter = ConsoleAdapter(HandlerContext.of(fb), default_registry(), io.StringIO())
    with fb.engine.connect() as connection:
        person = people.by_display_name(connection, user_name)
        actor = actor_for(connection, person, platform="console", platform_user_id=user_name)
    return [_numbers(adapter.render(message, caller="")) for message in adapter.handle(line, actor=actor)]


def test_slack_replies_carry_the_console_numbers_on_the_pwc_data(pwc):
    with FakeSlack() as fake:
        fb = make_app(pwc, **slack_settings(fake))
        import_roster(
            fb.engine,
            parse_roster(ROSTER, "roster.csv"),
            origin="roster.csv",
            today=date(2021, 4, 1),
            clock=fixed_clock,
        )
        web = create_web_app(fb)
        attach(fb, fb.settings, web, default_registry())
        server = BackgroundServer(web).start()
        driver = SlackDriver(server.url, fake)
        try:
            for user, line in LINES:
                name, _, text = line.partition(" ")
                expected = _console(fb, "Martha" if user == "UMARTHA" else "Ann Admin", line)
                _response, reply_to = driver.command(name, text, user=user)
                replies = driver.replies(reply_to, count=len(expected))
                got = [_numbers(text_of({"blocks": reply["blocks"]})) for reply in replies]
                assert got == expected, line
                if line.startswith("/leaderboard csat month"):
                    _check_against_workbook(replies[0])
                private = [reply["response_type"] == "ephemeral" for reply in replies]
                assert private[-1], line  # the caller's own rank (or the full board) is private
        finally:
            driver.close()
            server.stop()
            fb.close()


def _check_against_workbook(public: dict) -> None:
    """Each row of the public CSAT board shows the agent's January mean and survey count."""
    january = expected_from_workbook(shared_file(XLSX))[("csat", "month", "2021-01")]
    board = next(
        block["text"]["text"] for block in public["blocks"] if "```" in block.get("text", {}).get("text", "")
    )
    rows = [line.split() for line in board.strip("`\n").splitlines()[1:]]
    assert rows
    for row in rows:
        agent = next(word for word in row if word in january)
        mean, surveys = january[agent]
        assert f"{mean:.2f}" in row and str(surveys) in row, row
