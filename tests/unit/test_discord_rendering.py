"""Messages as Discord embeds within Discord's limits, escaping, and paging state in a custom_id."""

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
