"""The commands that write, through Slack on the PwC workbook: /adjust, /kudos-board, /kudos-revoke, /redeem,
/reject, /approve and /challenge create|join|status|end, plus App Home's badges.

Each line is typed into the console adapter on a twin copy of the database in the same order, so both
adapters answer on the same state. Every Slack answer (ephemeral, in the channel, by DM) carries the
console's numbers, in the console's order, and goes where the console says: private to the caller, to
the channel, or to the person's DM.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.adapters.slack.serving import attach
from bot.handlers.commands import default_registry
from bot.web.app import create_web_app
from bot.web.server import BackgroundServer
from tests.cli_support import cli
from tests.conftest import make_app, shared_file
from tests.discord_support import Twin, copy_of, program_file
from tests.fakes.slack_api import BROADCASTS, FakeSlack
from tests.integration.test_real_data_pwc import XLSX
from tests.slack_support import SlackDriver, slack_settings, text_of

WEST = ("Jim", "Joe", "Martha", "Stewart")
EAST = ("Becky", "Dan", "Diane", "Greg")
SLACK = {"Martha": "UMARTHA", "Jim": "UJIM", "Becky": "UBECKY", "Sam Reed": "USAM"}  # no digits in ids
NAME_OF = {user: name for name, user in SLACK.items()}
NUMBER = re.compile(r"\d+(?:\.\d+)?")
STAMP = re.compile(r"as of \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
BLOCK = re.compile(r"\n\n(?=\[(?:private to |#|team channel: |DM to ))")


def roster() -> str:
    lines = ["name,role,team,team_from,supervises,keys"]
    for team, names in (("west", WEST), ("east", EAST)):
        for name in names:
            account = f";slack:T1/{SLACK[name]}" if name in SLACK else ""
            lines.append(f"{name},agent,{team},2021-01-01,,pwc:{name}{account}")
    lines.append(f"Sam Reed,supervisor,,,west;east,slack:T1/{SLACK['Sam Reed']}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def teams_db(tmp_path_factory) -> Path:
    """The workbook under a program with a monthly CSAT badge and a store; west and east, Sam supervising."""
    folder = tmp_path_factory.mktemp("slack-commands")
    url = f"sqlite:///{folder / 'fb.db'}"
    program = program_file(folder)
    cli(url, "db", "upgrade")
    path = folder / "roster.csv"
    path.write_text(roster(), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLOORBOARD_PROGRAM_FILE", str(program))
        cli(url, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx")
        cli(url, "roster", "import", str(path))
    return folder / "fb.db"


def numbers(text: str) -> list[str]:
    """The numbers in order; the "as of" stamp (the wall-clock time of rendering) becomes a marker."""
    return NUMBER.findall(STAMP.sub("as of STAMP", text)) + ["stamp"] * len(STAMP.findall(text))


@dataclass
class Said:
    """Where each answer went and the numbers it carried: `private`, `public` or `dm <name>`."""

    places: dict[str, list[list[str]]] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)

    def add(self, place: str, text: str) -> None:
        self.places.setdefault(place, []).append(numbers(text))
        self.texts.setdefault(place, []).append(text.strip())

    def count(self) -> dict[str, int]:
        return {place: len(found) for place, found in self.places.items()}

    def text(self, place: str) -> str:
        return "\n".join(self.texts.get(place, []))


def console_said(console: str) -> Said:
    said = Said()
    for block in BLOCK.split(console.strip()):
        header = block.split("]", 1)[0] + "]"
        if header.startswith("[private to "):
            place = "private"
        elif header.startswith("[DM to "):
            place = f"dm {header.removeprefix('[DM to ').rstrip(']')}"
        else:  # the channel, or a team channel: on Slack, where the command was typed (no team channels here)
            place = "public"
        said.add(place, block[len(header) :])
    return said


class SlackSide:
    """Floorboard in HTTP mode on its copy of the database, answering to a fake Slack of its own."""

    def __init__(self, fake: FakeSlack, driver: SlackDriver) -> None:
        self.fake = fake
        self.driver = driver

    def say(self, line: str, as_name: str, expected: Said) -> Said:
        before = len(self.fake.calls)
        command, _, text = line.partition(" ")
        user = SLACK[as_name]
        response, url = self.driver.command(command, text, user=user)
        assert response.status_code == 200
        want = expected.count()

        def arrived() -> Said | None:
            said = self._said(before, url, user)
            counts = said.count()
            return said if all(counts.get(place, 0) >= n for place, n in want.items()) else None

        self.fake.wait_for(arrived)
        time.sleep(0.2)  # anything more than the console said would arrive by now
        return self._said(before, url, user)

    def _said(self, before: int, url: str, user: str) -> Said:
        said = Said()
        for call in self.fake.calls[before:]:
            text = text_of({"blocks": call.args.get("blocks") or []})
            if call.method == "respond" and call.args["_response_url"] == url:
                said.add("private" if call.args["response_type"] == "ephemeral" else "public", text)
            elif call.method == "chat.postEphemeral" and call.args["user"] == user:
                said.add("private", text)
            elif call.method == "chat.postMessage" and call.args["channel"] == "CFLOOR":
                said.add("public", text)
            elif call.method == "chat.postMessage":
                said.add(f"dm {NAME_OF[call.args['channel']]}", text)
        return said


@contextmanager
def slack_side(url: str) -> Iterator[SlackSide]:
    with FakeSlack() as fake:
        program = Path(url.removeprefix("sqlite:///")).with_name("program.yaml")
        fb = make_app(url, program_file=program, **slack_settings(fake))
        web = create_web_app(fb)
        attach(fb, fb.settings, web, default_registry())
        server = BackgroundServer(web).start()
        driver = SlackDriver(server.url, fake)
        try:
            yield SlackSide(fake, driver)
        finally:
            driver.close()
            server.stop()
            fb.close()
            everything = fake.everything()
            for broadcast in BROADCASTS:
                assert broadcast not in everything


@pytest.fixture
def both(teams_db: Path, tmp_path: Path) -> Iterator[tuple[SlackSide, Twin]]:
    twin = Twin(copy_of(teams_db, tmp_path / "console"))
    try:
        with slack_side(copy_of(teams_db, tmp_path / "slack")) as slack:
            yield slack, twin
    finally:
        twin.close()


def run(both: tuple[SlackSide, Twin], line: str, as_name: str) -> tuple[Said, Said]:
    """(Slack, console) for one line typed by `as_name` on each side; the numbers must agree."""
    slack, twin = both
    console = console_said(twin.say(line, as_name))
    said = slack.say(line, as_name, console)
    assert said.places == console.places, (line, said.texts, console.texts)
    return said, console


def test_adjust_the_kudos_board_and_a_revocation(both):
    refused, _ = run(both, "/adjust @Jim -2.5 why not", "Martha")
    assert "/adjust is for supervisors or admins only." in refused.text("private")
    adjusted, _ = run(both, "/adjust @Jim -2.5 duplicate survey", "Sam Reed")
    assert "-2.50 pts for" in adjusted.text("private") and "duplicate survey" in adjusted.text("private")
    assert "-2.50 pts: duplicate survey" in adjusted.text("dm Jim")
    points, _ = run(both, "/points 2021-04-01", "Jim")
    assert "-2.50 pts" in points.text("private")
    for line, giver in (
        ("/kudos @Jim great save", "Martha"),
        ("/kudos @Jim calm call", "Becky"),
        ("/kudos @Martha cover", "Becky"),
    ):
        given, _ = run(both, line, giver)
        assert given.text("private").startswith("Kudos sent to")
    board, _ = run(both, "/kudos-board", "Sam Reed")
    rows = [line.split() for line in board.text("public").split("```")[1].strip().splitlines()[1:]]
    assert rows[0] == ["1", "Jim", "2"]  # two kudos received this week (how many rows show is the console's)
    assert board.text("private").splitlines()[1:] == [
        "#3 2021-04-01 Becky → Martha: cover",
        "#2 2021-04-01 Becky → Jim: calm call",
        "#1 2021-04-01 Martha → Jim: great save",
    ]
    agent_revoke, _ = run(both, "/kudos-revoke 1 no", "Becky")
    assert "/kudos-revoke is for supervisors or admins only." in agent_revoke.text("private")
    revoked, _ = run(both, "/kudos-revoke 1 not earned", "Sam Reed")
    assert "5 pts reversed. Reason: not earned" in revoked.text("private")
    assert "5 pts reversed. Reason: not earned" in revoked.text("dm Jim")
    run(both, "/kudos-board", "Sam Reed")


def test_the_store_redeem_reject_and_approve(both):
    run(both, "/rewards", "Martha")
    mug, _ = run(both, "/redeem mug", "Martha")
    assert "Floorboard mug" in mug.text("private")
    run(both, "/redemptions", "Sam Reed")
    by_agent, _ = run(both, "/approve 1", "Jim")
    assert "/approve is for supervisors or admins only." in by_agent.text("private")
    rejected, _ = run(both, "/reject 1 out of mugs", "Sam Reed")
    assert "5.00 coins refunded. Reason: out of mugs" in rejected.text("private")
    assert "Reason: out of mugs" in rejected.text("dm Martha")
    run(both, "/redeem day-off", "Martha")
    approved, _ = run(both, "/approve 2", "Sam Reed")
    assert "Redemption #2 (Half a day off) for" in approved.text("private")
    sold_out, _ = run(both, "/redeem day-off", "Jim")
    assert "Half a day off is out of stock. Nothing was spent." in sold_out.text("private")


CREATE = '/challenge create csat absolute 3.415 2021-03-01 2021-04-30 opt-in points=10 coins=2 "March CSAT"'


def test_challenge_create_join_status_and_end(both):
    refused, _ = run(both, CREATE, "Jim")
    assert "/challenge create is for supervisors or admins only." in refused.text("private")
    created, _ = run(both, CREATE, "Sam Reed")
    assert "reach 3.42, 2021-03-01 to 2021-04-30" in created.text("public")
    for name in ("Martha", "Jim", "Becky"):
        joined, _ = run(both, "/challenge join March CSAT", name)
        assert joined.text("private").startswith("You joined March CSAT.")
    status, _ = run(both, "/challenge status March CSAT", "Martha")
    assert "March CSAT: standings through 2021-04-01" in status.text("private")
    agent_end, _ = run(both, "/challenge end March CSAT", "Martha")
    assert "/challenge end is for supervisors or admins only." in agent_end.text("private")
    ended, _ = run(both, "/challenge end March CSAT", "Sam Reed")
    assert "March CSAT: final results (2021-03-01 to 2021-04-01)" in ended.text("public")
    assert any(place.startswith("dm ") for place in ended.places)  # the winners hear it privately


def test_app_home_shows_the_badges_the_console_shows(both):
    slack, twin = both
    console = console_said(twin.say("/badges", "Martha"))
    slack.driver.event({"type": "app_home_opened", "user": "UMARTHA", "channel": "D1", "tab": "home"})
    [published] = slack.fake.wait_calls("views.publish")
    blocks = published.args["view"]["blocks"]
    start = next(i for i, b in enumerate(blocks) if b["type"] == "header" and "badges" in b["text"]["text"])
    end = next((i for i in range(start, len(blocks)) if blocks[i]["type"] == "divider"), len(blocks))
    section = text_of({"blocks": blocks[start:end]}).strip()

    def lines(text: str) -> list[str]:
        return [" ".join(line.split()) for line in text.replace("```", "").splitlines() if line.strip()]

    assert lines(section)[0] == "Martha's badges"
    assert "CSAT month" in section  # the program's badge: earned, or the next one to earn
    assert lines(section) == lines(console.text("private"))  # the console's /badges, line for line
    assert [numbers(section)] == console.places["private"]
