"""The rest of the command surface through the real discord.py CommandTree on the PwC workbook: badges,
the six challenge subcommands, the store and its approvals, adjustments, the kudos board and revocations.

Each command that writes is also typed into the console adapter on a twin copy of the database in the
same order, so both adapters are compared on the same state; expected values come from the workbook.
Every REST body is checked against Discord's spec by the fake server (running_client asserts none
failed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.store.models import Challenge, Person, Supervision, Team
from tests.conftest import make_app, shared_file
from tests.discord_support import (
    BECKY,
    JIM,
    MARTHA,
    SAM,
    Twin,
    build_teams_db,
    copy_of,
    option,
    program_of,
    sub,
)
from tests.fakes.discord_harness import (
    EPHEMERAL,
    SUPERVISOR_ROLE,
    Exchange,
    Harness,
    console_blocks,
    console_says,
    embed_text,
    numbers,
    private_bodies,
    public_bodies,
    running_client,
)
from tests.integration.test_discord_pwc import assert_no_pings, assert_same_numbers
from tests.integration.test_real_data_pwc import XLSX, expected_from_workbook

NUMBER, INTEGER, USER = 10, 4, 6


@pytest.fixture(scope="module")
def teams_db(tmp_path_factory) -> Path:
    return build_teams_db(tmp_path_factory.mktemp("discord-commands"))


@pytest.fixture
def url(teams_db: Path, tmp_path: Path) -> str:
    return copy_of(teams_db, tmp_path / "discord")


@pytest.fixture
def twin(teams_db: Path, tmp_path: Path) -> Iterator[Twin]:
    console = Twin(copy_of(teams_db, tmp_path / "console"))
    yield console
    console.close()


@pytest.fixture(scope="module")
def workbook() -> dict:
    return expected_from_workbook(shared_file(XLSX))


def private_text(exchange: Exchange) -> str:
    return "\n".join(embed_text(body) for body in private_bodies(exchange))


def public_text(exchange: Exchange) -> str:
    return "\n".join(embed_text(body) for body in public_bodies(exchange))


def dm_text(harness: Harness, exchange: Exchange, user_id: str) -> str:
    channel = harness.fake.dm_channels.get(user_id)
    return "\n".join(embed_text(c.body) for c in exchange.posts if c.path == f"/channels/{channel}/messages")


def assert_answered(exchange: Exchange, console: str, as_name: str) -> None:
    """One private defer first, no pings, and the console's numbers in the private and public answers."""
    assert [c.body for c in exchange.callbacks] == [{"type": 5, "data": {"flags": EPHEMERAL}}]
    assert exchange.calls[0] is exchange.callbacks[0]
    assert_no_pings(exchange)
    assert_same_numbers(exchange, console, as_name)


def assert_same_dm(harness: Harness, exchange: Exchange, console: str, name: str, user_id: str) -> None:
    dm = dm_text(harness, exchange, user_id)
    assert dm, f"no DM to {name}"
    assert numbers(dm) == numbers(console_blocks(console, f"[DM to {name}]"))


def table_rows(text: str) -> list[list[str]]:
    """The rows of the code blocks of a text, split on runs of two spaces or more, without headers."""
    rows: list[list[str]] = []
    for block in text.split("```")[1::2]:
        lines = block.strip("\n").splitlines()
        rows += [[cell for cell in line.split("  ") if cell.strip()] for line in lines[1:]]
    return [[cell.strip() for cell in row] for row in rows]


async def test_badges_are_the_workbook_months_over_the_bar(url, workbook):
    csat = {
        month: workbook[("csat", "month", month)]["Martha"] for month in ("2021-01", "2021-02", "2021-03")
    }
    earned = [month for month, (value, samples) in csat.items() if value >= 3.5 and samples >= 50]
    async with running_client(url, **program_of(url)) as harness:
        exchange = await harness.command("badges", [], user=MARTHA)
        console = console_says(harness, "/badges", "Martha")
    assert_answered(exchange, console, "Martha")
    assert public_bodies(exchange) == []
    [answer] = private_bodies(exchange)
    assert answer["embeds"][0]["title"] == "Martha's badges"
    shown = [row for row in table_rows(answer["embeds"][0]["description"]) if row[0] == "CSAT month"]
    starts = [row[1].split()[1][:7] for row in shown if row[1].startswith("month")]
    assert starts == earned == ["2021-01"]  # January 3.54 over 171 surveys; February and March under 3.5


CREATE_MARCH = (
    option("metric", "csat"),
    option("goal", "absolute"),
    option("target", 3.415, NUMBER),
    option("start", "2021-03-01"),
    option("end", "2021-04-30"),
    option("optin", "opt-in"),
    option("points", 10, NUMBER),
    option("coins", 2, NUMBER),
    option("name", "March CSAT"),
)
CREATE_MARCH_LINE = (
    '/challenge create csat absolute 3.415 2021-03-01 2021-04-30 opt-in points=10 coins=2 "March CSAT"'
)
CREATE_APRIL = (
    option("metric", "fcr"),
    option("goal", "absolute"),
    option("target", 0.9, NUMBER),
    option("start", "2021-04-01"),
    option("end", "2021-04-30"),
    option("optin", "opt-in"),
    option("name", "April FCR"),
)
CREATE_APRIL_LINE = '/challenge create fcr absolute 0.9 2021-04-01 2021-04-30 opt-in "April FCR"'


async def test_the_six_challenge_subcommands(url, twin, workbook):
    march = workbook[("csat", "month", "2021-03")]  # the window's only data: its March surveys
    players = {"Martha": MARTHA, "Becky": BECKY, "Jim": JIM}
    standings = sorted(players, key=lambda name: -march[name][0])
    winners = sorted(name for name in players if march[name][0] >= 3.415)
    assert 0 < len(winners) < len(players)  # the target splits the three: the test can tell who won
    async with running_client(url, **program_of(url)) as harness:
        refused = await harness.command("challenge", sub("create", *CREATE_MARCH), user=JIM)
        twin_refused = twin.say(CREATE_MARCH_LINE, "Jim")
        created = await harness.command("challenge", sub("create", *CREATE_MARCH), user=SAM)
        twin_created = twin.say(CREATE_MARCH_LINE, "Sam Reed")
        april = await harness.command("challenge", sub("create", *CREATE_APRIL), user=SAM)
        twin.say(CREATE_APRIL_LINE, "Sam Reed")
        listed = await harness.command("challenge", sub("list"), user=MARTHA)
        twin_listed = twin.say("/challenge list", "Martha")
        joined = {}
        for name, user in players.items():
            joined[name] = await harness.command(
                "challenge", sub("join", option("name", "March CSAT")), user=user
            )
            twin.say("/challenge join March CSAT", name)
        again = await harness.command("challenge", sub("join", option("name", "March CSAT")), user=JIM)
        status = await harness.command("challenge", sub("status", option("name", "March CSAT")), user=MARTHA)
        twin_status = twin.say("/challenge status March CSAT", "Martha")
        agent_end = await harness.command("challenge", sub("end", option("name", "March CSAT")), user=MARTHA)
        ended = await harness.command("challenge", sub("end", option("name", "March CSAT")), user=SAM)
        twin_ended = twin.say("/challenge end March CSAT", "Sam Reed")
        cancelled = await harness.command(
            "challenge",
            sub("cancel", option("name", "April FCR"), option("reason", "changed plans")),
            user=SAM,
        )
        twin_cancelled = twin.say('/challenge cancel changed plans "April FCR"', "Sam Reed")
        after = await harness.command("challenge", sub("list"), user=MARTHA)
        dms = {name: dm_text(harness, ended, user[0]) for name, user in players.items()}

    assert "/challenge create is for supervisors or admins only." in private_text(refused)
    assert private_text(refused).strip() == console_blocks(twin_refused, "[private to Jim]").strip()
    assert (
        created.followups and public_bodies(created)[0]["embeds"][0]["title"] == "New challenge: March CSAT"
    )
    assert "reach 3.42, 2021-03-01 to 2021-04-30" in public_text(created)  # 3.415 shown to two decimals
    assert "Reward: 10 pts, 2 coins" in public_text(created)
    assert_answered(created, twin_created, "Sam Reed")
    assert "April FCR" in public_text(april)
    assert_answered(listed, twin_listed, "Martha")
    assert [line.split(":")[0] for line in private_text(listed).splitlines() if line.startswith("•")] == [
        "• March CSAT",
        "• April FCR",
    ]
    for name in players:
        assert private_text(joined[name]).strip().startswith("You joined March CSAT.")
    assert "You are already in March CSAT." in private_text(again)

    assert_answered(status, twin_status, "Martha")
    [board] = private_bodies(status)
    assert board["embeds"][0]["title"] == "March CSAT: standings through 2021-04-01"
    rows = table_rows(board["embeds"][0]["description"])
    # an agent sees the top a channel would (never the bottom half), then their own line
    seen = standings[: len(standings) // 2]
    assert [row[1] for row in rows] == [*seen, *(["Martha"] if "Martha" not in seen else [])]
    for row in rows:
        value, samples = march[row[1]]
        assert (row[2], row[3]) == (f"{value:.2f}", str(samples))
    assert f"You: {ordinal(standings.index('Martha') + 1)}." in embed_text(board)

    assert "/challenge end is for supervisors or admins only." in private_text(agent_end)
    assert_answered(ended, twin_ended, "Sam Reed")
    assert (
        public_text(ended)
        .strip()
        .startswith(f"March CSAT: final results (2021-03-01 to 2021-04-01)\nWinners: {', '.join(winners)}.")
    )
    for name in players:
        expected = "You won March CSAT! 10 pts, 2 coins" if name in winners else ""
        assert expected in dms[name] and bool(dms[name]) == (name in winners)
        if name in winners:
            assert numbers(dms[name]) == numbers(console_blocks(twin_ended, f"[DM to {name}]"))

    assert_answered(cancelled, twin_cancelled, "Sam Reed")
    assert "April FCR" in private_text(cancelled) + public_text(cancelled)
    assert "April FCR" not in private_text(after) and "March CSAT" not in private_text(after)


def ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


async def test_challenge_and_reward_names_autocomplete_from_the_database(url):
    async with running_client(url, **program_of(url)) as harness:
        await harness.command("challenge", sub("create", *CREATE_MARCH), user=SAM)
        await harness.command("challenge", sub("create", *CREATE_APRIL), user=SAM)
        challenge = await harness.autocomplete(
            "challenge",
            sub("join", {"name": "name", "type": 3, "value": "mar", "focused": True}),
            user=MARTHA,
        )
        every = await harness.autocomplete(
            "challenge", sub("status", {"name": "name", "type": 3, "value": "", "focused": True}), user=MARTHA
        )
        reward = await harness.autocomplete(
            "redeem", [{"name": "item", "type": 3, "value": "OFF", "focused": True}], user=MARTHA
        )
        rewards = await harness.autocomplete(
            "redeem", [{"name": "item", "type": 3, "value": "", "focused": True}], user=MARTHA
        )

    def choices(exchange: Exchange) -> list[str]:
        [callback] = exchange.callbacks
        assert callback.body["type"] == 8
        return [choice["value"] for choice in callback.body["data"]["choices"]]

    assert choices(challenge) == ["March CSAT"]
    assert sorted(choices(every)) == ["April FCR", "March CSAT"]
    assert choices(reward) == ["day-off"]
    assert choices(rewards) == ["day-off", "mug"]  # the program's store, sorted by name


async def test_the_store_redeem_redemptions_approve_and_reject(url, twin):
    async with running_client(url, **program_of(url)) as harness:
        store = await harness.command("rewards", [], user=MARTHA)
        twin_store = twin.say("/rewards", "Martha")
        mug = await harness.command("redeem", [option("item", "mug")], user=MARTHA)
        twin_mug = twin.say("/redeem mug", "Martha")
        mine = await harness.command("redemptions", [], user=MARTHA)
        twin_mine = twin.say("/redemptions", "Martha")
        waiting = await harness.command("redemptions", [], user=SAM)
        twin_waiting = twin.say("/redemptions", "Sam Reed")
        by_agent = await harness.command("approve", [option("id", 1, INTEGER)], user=JIM)
        rejected = await harness.command(
            "reject", [option("id", 1, INTEGER), option("reason", "out of mugs")], user=SAM
        )
        twin_rejected = twin.say("/reject 1 out of mugs", "Sam Reed")
        day_off = await harness.command("redeem", [option("item", "day-off")], user=MARTHA)
        twin_day_off = twin.say("/redeem day-off", "Martha")
        approved = await harness.command("approve", [option("id", 2, INTEGER)], user=SAM)
        twin_approved = twin.say("/approve 2", "Sam Reed")
        sold_out = await harness.command("redeem", [option("item", "day-off")], user=JIM)
        history = await harness.command(
            "redemptions", [option("who", MARTHA[0], USER)], user=SAM, users={MARTHA[0]: MARTHA[1]}
        )
        twin_history = twin.say("/redemptions @Martha", "Sam Reed")
        reject_dm = dm_text(harness, rejected, MARTHA[0])

    [listing] = private_bodies(store)
    rows = table_rows(listing["embeds"][0]["description"])
    assert rows == [["mug", "Floorboard mug", "5.00", "∞"], ["day-off", "Half a day off", "40.00", "1"]]
    assert_answered(store, twin_store, "Martha")
    wallet = float(numbers(console_blocks(twin_store, "[private to Martha]").splitlines()[0])[0])
    assert f"Wallet: {wallet - 5:.2f} coins." in private_text(mug)
    assert_answered(mug, twin_mug, "Martha")
    assert_answered(mine, twin_mine, "Martha")
    assert table_rows(private_text(mine)) == [
        ["1", "Martha", "Floorboard mug", "5.00", "pending", "2021-04-01"]
    ]
    assert_answered(waiting, twin_waiting, "Sam Reed")
    assert "/approve is for supervisors or admins only." in private_text(by_agent)
    assert_answered(rejected, twin_rejected, "Sam Reed")
    assert "5.00 coins refunded. Reason: out of mugs" in private_text(rejected)
    assert "Reason: out of mugs" in reject_dm
    # The refund is back: the day off (40) leaves the wallet less 40 only.
    assert f"Wallet: {wallet - 40:.2f} coins." in private_text(day_off)
    assert_answered(day_off, twin_day_off, "Martha")
    assert_answered(approved, twin_approved, "Sam Reed")
    assert "Redemption #2 (Half a day off) for" in private_text(approved)
    assert "Half a day off is out of stock. Nothing was spent." in private_text(sold_out)
    assert_answered(history, twin_history, "Sam Reed")
    statuses = [row[4] for row in table_rows(private_text(history))]
    assert sorted(statuses) == ["approved", "rejected"]


async def test_adjust_the_kudos_board_and_a_revocation(url, twin):
    async with running_client(url, **program_of(url)) as harness:
        by_agent = await harness.command(
            "adjust",
            [option("who", JIM[0], USER), option("points", -2.5, NUMBER), option("reason", "why not")],
            user=MARTHA,
            users={JIM[0]: JIM[1]},
        )
        adjusted = await harness.command(
            "adjust",
            [
                option("who", JIM[0], USER),
                option("points", -2.5, NUMBER),
                option("reason", "duplicate survey"),
            ],
            user=SAM,
            users={JIM[0]: JIM[1]},
        )
        twin_adjusted = twin.say("/adjust @Jim -2.5 duplicate survey", "Sam Reed")
        points = await harness.command("points", [option("at", "2021-04-01")], user=JIM)
        twin_points = twin.say("/points 2021-04-01", "Jim")
        await harness.command(
            "kudos", [option("to", f"<@{JIM[0]}>"), option("reason", "great save")], user=MARTHA
        )
        twin.say("/kudos @Jim great save", "Martha")
        await harness.command(
            "kudos", [option("to", f"<@{JIM[0]}>"), option("reason", "calm call")], user=BECKY
        )
        twin.say("/kudos @Jim calm call", "Becky")
        await harness.command(
            "kudos", [option("to", f"<@{MARTHA[0]}>"), option("reason", "cover")], user=BECKY
        )
        twin.say("/kudos @Martha cover", "Becky")
        board = await harness.command("kudos-board", [], user=SAM)
        twin_board = twin.say("/kudos-board", "Sam Reed")
        agent_board = await harness.command("kudos-board", [option("period", "week")], user=MARTHA)
        twin_agent_board = twin.say("/kudos-board week", "Martha")
        agent_revoke = await harness.command(
            "kudos-revoke", [option("id", 1, INTEGER), option("reason", "no")], user=BECKY
        )
        revoked = await harness.command(
            "kudos-revoke", [option("id", 1, INTEGER), option("reason", "not earned")], user=SAM
        )
        twin_revoked = twin.say("/kudos-revoke 1 not earned", "Sam Reed")
        after = await harness.command("kudos-board", [], user=SAM)
        twin_after = twin.say("/kudos-board", "Sam Reed")
        adjust_dm = dm_text(harness, adjusted, JIM[0])
        revoke_dm = dm_text(harness, revoked, JIM[0])

    assert "/adjust is for supervisors or admins only." in private_text(by_agent)
    assert_answered(adjusted, twin_adjusted, "Sam Reed")
    assert "-2.50 pts for" in private_text(adjusted) and "duplicate survey" in private_text(adjusted)
    assert "-2.50 pts: duplicate survey" in adjust_dm
    assert_answered(points, twin_points, "Jim")
    fields = {f["name"]: f["value"] for f in private_bodies(points)[0]["embeds"][0]["fields"]}
    assert fields["Today"] == "\\-2.50 pts"  # markdown-escaped: Discord shows -2.50 pts
    assert ["adjustment", "-2.50", "-2.50"] in table_rows(private_text(points))

    # The board counts the kudos each received this week (Jim 2, Martha 1) and, as public boards do, shows
    # at most half of those it ranks; a supervisor also gets the list.
    assert_answered(board, twin_board, "Sam Reed")
    [public] = public_bodies(board)
    assert [row[:3] for row in table_rows(embed_text(public))] == [["1", "Jim", "2"]]
    listed = private_text(board)
    assert (
        "#1 2021-04-01 Martha → Jim: great save" in listed and "#3 2021-04-01 Becky → Martha: cover" in listed
    )
    assert_answered(agent_board, twin_agent_board, "Martha")
    assert private_bodies(agent_board)[0]["content"] == "Done: posted in this channel."  # nothing private
    assert "/kudos-revoke is for supervisors or admins only." in private_text(agent_revoke)
    assert_answered(revoked, twin_revoked, "Sam Reed")
    assert "Kudos #1 from" in private_text(revoked) and "5 pts reversed. Reason: not earned" in private_text(
        revoked
    )
    assert "5 pts reversed. Reason: not earned" in revoke_dm
    assert_answered(after, twin_after, "Sam Reed")
    [public_after] = public_bodies(after)
    assert [row[:3] for row in table_rows(embed_text(public_after))] == [["1", "Jim", "1"]]


async def test_the_supervisor_role_makes_an_agent_on_the_roster_a_supervisor(url):
    """Jim is an agent on the roster who leads the west team (a team lead: the roster's supervisions say
    which teams he leads, his role says agent). The configured Discord supervisor role lets him create a
    challenge for his team; the same person without the role is refused as an agent."""
    app = make_app(url)
    with app.engine.begin() as connection:
        jim = connection.scalar(select(Person.id).where(Person.display_name == "Jim"))
        west = connection.scalar(select(Team.id).where(Team.key == "west"))
        connection.execute(insert(Supervision).values(supervisor_id=jim, team_id=west))
    app.close()
    async with running_client(url, **program_of(url)) as harness:
        refused = await harness.command("challenge", sub("create", *CREATE_MARCH), user=JIM)
        allowed = await harness.command(
            "challenge", sub("create", *CREATE_MARCH), user=JIM, roles=(SUPERVISOR_ROLE,)
        )
        with harness.fb.engine.connect() as connection:
            role = connection.scalar(select(Person.role).where(Person.id == jim))
            created = connection.execute(select(Challenge.name, Challenge.created_by)).all()
    assert role == "agent"
    assert "/challenge create is for supervisors or admins only." in private_text(refused)
    assert public_bodies(allowed)[0]["embeds"][0]["title"] == "New challenge: March CSAT"
    assert created == [("March CSAT", jim)]


def as_console(text: str) -> list[str]:
    """Discord's text as the console writes it: mentions as @Name, markdown escapes and the zero-width
    spaces that keep an @ from mentioning undone; the lines with text."""
    names = {user_id: name for name, (user_id, _) in {"Martha": MARTHA, "Jim": JIM, "Becky": BECKY}.items()}
    named = re.sub(r"<@(\d+)>", lambda match: "@" + names[match[1]], text)
    unescaped = re.sub(r"\\(.)", r"\1", named).replace("\u200b", "")
    return [line for line in unescaped.splitlines() if line.strip()]


def console_lines(console: str, header: str) -> list[str]:
    """The lines of the console's blocks for one place (`[private to Martha]`, `[#floor]`)."""
    return [line for line in console_blocks(console, header).splitlines() if line.strip()]


async def test_kudos_join_help_and_privacy_say_what_the_console_says(url, twin):
    async with running_client(url, **program_of(url)) as harness:
        kudos = await harness.command(
            "kudos", [option("to", f"<@{JIM[0]}>"), option("reason", "great save")], user=MARTHA
        )
        twin_kudos = twin.say("/kudos @Jim great save", "Martha")
        await harness.command("challenge", sub("create", *CREATE_MARCH), user=SAM)
        twin.say(CREATE_MARCH_LINE, "Sam Reed")
        joined = await harness.command("challenge", sub("join", option("name", "March CSAT")), user=MARTHA)
        twin_joined = twin.say("/challenge join March CSAT", "Martha")
        privacy = {}
        for action in ("optin", "optout", "optin"):
            answer = await harness.command(
                "floorboard", [{"name": action, "type": 1, "options": []}], user=BECKY
            )
            privacy[len(privacy)] = (answer, twin.say(f"/floorboard {action}", "Becky"))
        helped = await harness.command("floorboard", [{"name": "help", "type": 1, "options": []}], user=BECKY)
        twin_help = twin.say("/floorboard help", "Becky")
        jim_dm = dm_text(harness, kudos, JIM[0])

    assert_answered(kudos, twin_kudos, "Martha")
    assert as_console(private_text(kudos)) == console_lines(twin_kudos, "[private to Martha]")
    assert as_console(public_text(kudos)) == console_lines(twin_kudos, "[#floor]")  # west has no channel
    assert as_console(jim_dm) == console_lines(twin_kudos, "[DM to Jim]")
    assert_answered(joined, twin_joined, "Martha")
    assert as_console(private_text(joined)) == console_lines(twin_joined, "[private to Martha]")
    assert public_bodies(joined) == []
    said = [as_console(private_text(answer)) for answer, _ in privacy.values()]
    assert said == [console_lines(console, "[private to Becky]") for _, console in privacy.values()]
    assert said[1] != said[2]  # hidden, then shown again: the answers tell the change
    assert [c.body for c in helped.callbacks] == [{"type": 5, "data": {"flags": EPHEMERAL}}]
    assert_no_pings(helped)
    [first_page] = private_bodies(helped)  # the whole help, both pages: test_discord_paging
    assert first_page["embeds"][0]["footer"]["text"].startswith("Page 1 of ")
    assert first_page["components"][0]["components"][0]["label"] == "Next ▶"  # the rest is a press away
    first_lines = as_console(first_page["embeds"][0]["description"])
    help_lines = console_lines(twin_help, "[private to Becky]")
    assert first_lines == help_lines[: len(first_lines)] and len(first_lines) < len(help_lines)
