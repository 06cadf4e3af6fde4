"""Messages as Discord embeds within Discord's limits, escaping, paging state in a custom_id, nonces and
the retry log."""

from __future__ import annotations

from datetime import date

import discord
import pytest
from discord import app_commands

from bot.adapters.discord.commands import app_command, app_commands_for, default_sources, short
from bot.adapters.discord.embeds import (
    DESCRIPTION,
    FIELD_VALUE,
    FIELDS,
    TITLE,
    TOTAL,
    embed_size,
    escape,
    render_message,
)
from bot.adapters.discord.interactions import DiscordAdapter
from bot.adapters.discord.notifier import RETRY_RECORDS, RetryLog, nonce_for
from bot.adapters.discord.paging import CUSTOM_ID_LIMIT, PageState, decode_args, encode_args, pager
from bot.handlers.commands import default_registry
from bot.handlers.context import HandlerContext
from bot.handlers.contract import (
    CALLER,
    Fields,
    Image,
    Mention,
    Message,
    Param,
    ParamKind,
    PersonRef,
    Table,
    Text,
    UserText,
)
from bot.handlers.registry import CommandSpec
from bot.scoring.periods import Period


def table(rows: int, width: int = 8) -> Table:
    return Table(
        ("#", "Agent", "CSAT"),
        tuple((str(i), f"Agent {i:0{width}d}", f"{i / 10:.2f}") for i in range(1, rows + 1)),
        ("right", "left", "right"),
    )


def total(embed) -> int:
    size = len(embed.title or "") + len(embed.description or "") + len(embed.footer.text or "")
    return size + sum(len(field.name) + len(field.value) for field in embed.fields)


def test_a_long_table_is_split_into_pages_of_fifteen_rows_each_within_limits():
    message = Message(CALLER, (Text("Full board"), table(40), Text("40 ranked.")), title="CSAT")
    pages = render_message(message, {}).pages
    assert len(pages) == 3
    bodies = [page.embed.description for page in pages]
    rows = [line for body in bodies for line in body.split("```")[1].strip("\n").splitlines()[1:]]
    assert [int(row.split()[0]) for row in rows] == list(range(1, 41))
    assert all(body.startswith("Full board\n```") and body.endswith("40 ranked.") for body in bodies)
    assert [page.embed.footer.text for page in pages] == ["Page 1 of 3", "Page 2 of 3", "Page 3 of 3"]


def test_wide_rows_make_smaller_pages_so_the_description_stays_under_4096():
    message = Message(CALLER, (table(60, width=300),), title="T" * 400)
    pages = render_message(message, {}).pages
    assert len(pages) > 4
    for page in pages:
        assert len(page.embed.title) == TITLE
        assert len(page.embed.description) <= DESCRIPTION
        assert total(page.embed) <= TOTAL
        assert page.embed.description.count("```") == 2  # no page cuts a code block


def test_up_to_25_fields_are_fields_more_become_lines_of_text():
    few = tuple((f"KPI {i}", f"{i}.5") for i in range(FIELDS))
    [page] = render_message(Message(CALLER, (Text("Profile"), Fields(few))), {}).pages
    assert [(field.name, field.value) for field in page.embed.fields] == list(few)
    many = tuple((f"KPI {i}", f"{i}.5") for i in range(30))
    [page] = render_message(Message(CALLER, (Text("Profile"), Fields(many))), {}).pages
    assert page.embed.fields == []
    assert page.embed.description.splitlines()[1:] == [f"**KPI {i}**: {i}.5" for i in range(30)]


def test_huge_text_and_fields_stay_within_every_limit():
    items = tuple((f"KPI {i}", "x" * 2000) for i in range(20))
    message = Message(CALLER, (Text("y" * 9000), Fields(items)), title="t" * 300)
    for page in render_message(message, {}).pages:
        assert len(page.embed.fields) <= FIELDS
        assert all(len(field.value) <= FIELD_VALUE for field in page.embed.fields)
        assert len(page.embed.description) <= DESCRIPTION and total(page.embed) <= TOTAL
        assert page.embed.description.endswith("…")  # clipped visibly, not silently


def test_user_text_can_neither_mention_nor_format():
    message = Message(
        CALLER,
        (
            Mention(1, "Martha"),
            Text(" says: "),
            UserText("@everyone @here <@&123456789012345678> <@123456789012345678> **loud** `code`"),
            Mention(2, "Jim *the* Great"),
        ),
    )
    [page] = render_message(message, {1: "111111111111111111"}).pages
    description = page.embed.description
    assert description.startswith("<@111111111111111111> says: ")  # linked people show, never ping
    assert "@everyone" not in description and "@here" not in description
    assert "<@&" not in description and "<@123456789012345678>" not in description
    assert "\\*\\*loud\\*\\*" in description and "\\`code\\`" in description
    assert description.endswith("**Jim \\*the\\* Great**")  # unlinked: the name in bold, escaped
    assert escape("@everyone") == "@\u200beveryone"


def test_an_image_is_attached_and_shown():
    image = Image("chart.png", b"\x89PNG", "chart")
    [page] = render_message(Message(CALLER, (Text("Trend"), image)), {}).pages
    assert page.embed.image.url == "attachment://chart.png"
    [file] = page.files()
    assert file.filename == "chart.png" and file.fp.read() == b"\x89PNG"
    assert file.to_dict(0)["id"] == "0"


def test_leaderboard_arguments_round_trip_through_a_custom_id():
    spec = default_registry().get("leaderboard")
    assert spec is not None
    args = {
        "metric": "talk_time",
        "period": Period.QUARTER,
        "team": "night shift, east",
        "league": None,
        "at": date(2021, 1, 15),
        "full": "full",
    }
    state = PageState("leaderboard", encode_args(spec, args), 2, 1)
    expected = "fb:pg:1:2:leaderboard:talk_time,quarter,night%20shift%2C%20east,,2021-01-15,full"
    assert state.custom_id() == expected
    assert state.fits()
    assert decode_args(spec, state.args, {}) == args


def test_people_round_trip_and_a_custom_id_too_long_gets_no_buttons():
    spec = default_registry().get("points")
    assert spec is not None
    args = {"who": PersonRef(7, "Martha"), "why": "why", "at": None}
    encoded = encode_args(spec, args)
    assert decode_args(spec, encoded, {7: "Martha"}) == args
    long = PageState("leaderboard", "x" * CUSTOM_ID_LIMIT, 0, 0)
    assert pager(long, 3, "prev", "next") is None
    assert pager(PageState("leaderboard", ",,,,,", 0, 0), 1, "prev", "next") is None
    view = pager(PageState("leaderboard", ",,,,,", 0, 1), 3, "prev", "next")
    assert view is not None and [item.custom_id for item in view.children] == [
        "fb:pg:0:0:leaderboard:,,,,,",
        "fb:pg:2:0:leaderboard:,,,,,",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("List every command with its parameters.", "List every command with its parameters"),
        ("Short. Then more.", "Short"),
        ("word " * 40, ("word " * 19).strip() + "…"),
    ],
)
def test_descriptions_fit_discords_100_characters(text, expected):
    assert short(text) == expected
    assert len(short(text)) <= 100


def test_autocomplete_sources_are_pluggable_by_the_params_key(app):
    spec = CommandSpec(
        name="challenge",
        help="Challenges.",
        handler=lambda _command, _ctx: [],
        params=(
            Param("name", ParamKind.TEXT, "the challenge", required=True, autocomplete="challenge"),
            Param("reward", ParamKind.TEXT, "a reward", autocomplete="reward"),
            Param("team", ParamKind.TEAM, "a team"),
        ),
    )
    adapter = DiscordAdapter(HandlerContext.of(app), default_registry(), notifier=None)  # type: ignore[arg-type]
    sources = {**default_sources(), "challenge": lambda _connection, _program: ["Q2 sprint"]}
    command = app_command(spec, adapter, sources)
    options = {parameter.name: parameter for parameter in command.parameters}
    assert options["name"].autocomplete is True and options["name"].required is True
    assert options["reward"].autocomplete is True  # the rewards store's item keys
    assert options["team"].autocomplete is True and options["team"].required is False


def test_two_word_commands_become_subcommands_of_one_group(app):
    adapter = DiscordAdapter(HandlerContext.of(app), default_registry(), notifier=None)  # type: ignore[arg-type]
    built = app_commands_for(default_registry(), adapter, default_sources())
    groups = {command.name: command for command in built if isinstance(command, app_commands.Group)}
    assert {sub.name for sub in groups["challenge"].commands} == {
        "create",
        "list",
        "join",
        "status",
        "end",
        "cancel",
    }
    names = [command.name for command in built]
    assert len(names) == len(set(names)) and all(" " not in name for name in names)
    create = next(sub for sub in groups["challenge"].commands if sub.name == "create")
    goal = {parameter.name: parameter for parameter in create.parameters}
    number_options = [p for p in goal.values() if p.type is discord.AppCommandOptionType.number]
    assert number_options  # decimals (a goal such as 3.5) are NUMBER options


def test_long_text_is_paged_by_whole_lines_and_loses_nothing():
    lines = [f"line {n:04d} " + "x" * 90 for n in range(120)]
    message = Message(CALLER, (Text("\n".join(lines)),))
    pages = render_message(message, {}).pages
    assert len(pages) > 1
    bodies = [page.embed.description or "" for page in pages]
    assert all(
        len(body) <= 4096 and embed_size(page.embed) <= 6000 for body, page in zip(bodies, pages, strict=True)
    )
    assert "\n".join(bodies).split("\n") == lines
    assert pages[0].embed.footer.text == f"Page 1 of {len(pages)}"


def code_rows(bodies: list[str]) -> list[str]:
    """The rows of every code block across pages, headers left out."""
    rows = []
    for body in bodies:
        for block in body.split("```")[1::2]:
            rows += [line for line in block.strip("\n").splitlines()[1:]]
    return rows


def test_text_longer_than_a_page_before_a_table_runs_onto_pages_of_its_own():
    preamble = [f"line {n:03d} of the preamble" for n in range(400)]
    message = Message(CALLER, (Text("\n".join(preamble)), table(30), Text("30 ranked.")), title="CSAT")
    pages = render_message(message, {}).pages
    bodies = [page.embed.description or "" for page in pages]
    assert len(pages) == 3
    for page, body in zip(pages, bodies, strict=True):
        assert len(body) <= DESCRIPTION and embed_size(page.embed) <= TOTAL
        assert body.count("```") % 2 == 0  # every code block closed on its page
    text_lines = [line for body in bodies for line in body.split("\n") if line.startswith("line ")]
    assert text_lines == preamble  # each line once, in order, none cut
    assert [int(row.split()[0]) for row in code_rows(bodies)] == list(range(1, 31))
    assert bodies[-1].endswith("30 ranked.")
    assert [page.embed.footer.text for page in pages] == ["Page 1 of 3", "Page 2 of 3", "Page 3 of 3"]


def test_long_text_after_a_table_and_a_second_table_keep_their_code_blocks_whole():
    after = "\n".join(f"note {n:03d} " + "y" * 60 for n in range(120))
    message = Message(CALLER, (Text("Board"), table(20), Text(after), table(40)))
    pages = render_message(message, {}).pages
    bodies = [page.embed.description or "" for page in pages]
    assert all(len(body) <= DESCRIPTION and body.count("```") % 2 == 0 for body in bodies)
    notes = [line.split()[1] for body in bodies for line in body.split("\n") if line.startswith("note ")]
    assert notes == [f"{n:03d}" for n in range(120)]
    assert [int(row.split()[0]) for row in code_rows(bodies)] == [*range(1, 21), *range(1, 41)]


def test_a_row_wider_than_a_page_is_clipped_inside_its_block():
    wide = Table(("#", "Agent"), (("1", "x" * 5000), ("2", "y" * 5000)))
    pages = render_message(Message(CALLER, (wide,)), {}).pages
    assert len(pages) == 2
    for page in pages:
        body = page.embed.description or ""
        assert len(body) <= DESCRIPTION and body.count("```") == 2 and "…" in body


def test_the_retry_log_keeps_the_latest_records_only():
    retries = RetryLog()
    for attempt in range(RETRY_RECORDS + 50):
        retries.add("post to channel 1", attempt, "HTTP 503")
    assert len(retries.records) == RETRY_RECORDS
    assert retries.records[0].attempt == 50 and retries.records[-1].attempt == RETRY_RECORDS + 49


def test_nonces_follow_the_outbox_key_and_page_within_discords_25_characters():
    first, again = nonce_for("post:12:0", 0), nonce_for("post:12:0", 0)
    assert first == again and len(first) <= 25
    assert len({nonce_for("post:12:0", 1), nonce_for("post:12:1", 0), first}) == 3
    assert nonce_for(None) != nonce_for(None)  # no key: a fresh one per send
