"""Free text into typed params: order-tolerant optional params, mentions, dates, and errors that help."""

from __future__ import annotations

from datetime import date

import pytest

from bot.handlers.commands import default_registry
from bot.handlers.contract import Message, Param, ParamKind, PersonRef
from bot.handlers.parsing import ParseError, Vocabulary, parse_args, split_command, tokenize, usage
from bot.handlers.registry import CommandSpec
from bot.scoring.periods import Period
from bot.services.leaderboard import metric_names

PEOPLE = {
    "martha": PersonRef(1, "Martha Jones"),
    "jim park": PersonRef(2, "Jim Park"),
    "U024BE7LH": PersonRef(3, "Ann"),
}
VOCAB = Vocabulary(
    tuple(metric_names()), ("blue", "red"), lambda handle: PEOPLE.get(handle.lower(), PEOPLE.get(handle))
)
REGISTRY = default_registry()


def _parse(name: str, text: str) -> dict[str, object]:
    spec = REGISTRY.get(name)
    assert spec is not None
    return parse_args(spec, text, VOCAB)


def test_split_command() -> None:
    assert split_command("/Leaderboard csat month") == ("leaderboard", "csat month")
    assert split_command("  /kudos   @Jim thanks ") == ("kudos", "@Jim thanks")
    assert split_command("/me") == ("me", "")
    assert split_command("  kudos   @Jim thanks ") == ("", "kudos   @Jim thanks")
    assert split_command("hello") == ("", "hello")


def test_tokens_keep_positions_and_mention_forms() -> None:
    tokens = tokenize('@Martha, @"Jim Park" <@U024BE7LH|ann> "two words" plain')
    assert [(t.kind, t.value) for t in tokens] == [
        ("mention", "Martha"),
        ("mention", "Jim Park"),
        ("mention", "U024BE7LH"),
        ("word", "two words"),
        ("word", "plain"),
    ]
    assert tokens[0].raw == "@Martha"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {"metric": None, "period": None, "team": None, "league": None, "at": None, "full": None}),
        (
            "csat month",
            {
                "metric": "csat",
                "period": Period.MONTH,
                "team": None,
                "league": None,
                "at": None,
                "full": None,
            },
        ),
        (
            "month",
            {"metric": None, "period": Period.MONTH, "team": None, "league": None, "at": None, "full": None},
        ),
        (
            "CSAT Blue",
            {"metric": "csat", "period": None, "team": "blue", "league": None, "at": None, "full": None},
        ),
        (
            "csat month 2021-01-15",
            {
                "metric": "csat",
                "period": Period.MONTH,
                "team": None,
                "league": None,
                "at": date(2021, 1, 15),
                "full": None,
            },
        ),
        (
            "aht week red 2021-3-1 full",
            {
                "metric": "aht",
                "period": Period.WEEK,
                "team": "red",
                "league": None,
                "at": date(2021, 3, 1),
                "full": "full",
            },
        ),
        (
            "points full",
            {"metric": "points", "period": None, "team": None, "league": None, "at": None, "full": "full"},
        ),
    ],
)
def test_leaderboard_params_may_be_left_out(text: str, expected: dict[str, object]) -> None:
    assert _parse("leaderboard", text) == expected


def test_kudos_people_then_the_rest_as_typed() -> None:
    args = _parse("kudos", '@Martha @"Jim Park"  great   save <!channel> #empathy')
    assert args == {
        "to": (PEOPLE["martha"], PEOPLE["jim park"]),
        "private": None,
        "reason": "great   save <!channel> #empathy",
    }
    args = _parse("kudos", "<@U024BE7LH|ann> thanks @Martha")
    assert args == {"to": (PEOPLE["U024BE7LH"],), "private": None, "reason": "thanks @Martha"}
    args = _parse("kudos", "@Martha private thanks for the cover")
    assert args == {"to": (PEOPLE["martha"],), "private": "private", "reason": "thanks for the cover"}


def test_points_person_why_and_date() -> None:
    assert _parse("points", "@Martha why 2021-03-31") == {
        "who": PEOPLE["martha"],
        "why": "why",
        "at": date(2021, 3, 31),
    }
    assert _parse("points", "why") == {"who": None, "why": "why", "at": None}


@pytest.mark.parametrize(
    ("name", "text", "fragments"),
    [
        (
            "leaderboard",
            "csat fortnight",
            [
                "fortnight",
                "a period (day, week, month, quarter, all)",
                "a team (blue, red)",
                "a date (YYYY-MM-DD)",
                "“full”",
            ],
        ),
        ("leaderboard", "speed", ["speed", "a metric (points, handled, aht", "csat"]),
        ("leaderboard", "csat month 2021-02-30", ["2021-02-30 is not a valid date"]),
        (
            "leaderboard",
            "csat month red 2021-01-01 full extra",
            ["I didn't expect extra", "Usage: /leaderboard"],
        ),
        ("kudos", "@Nobody thanks", ["I don't know anyone called @Nobody", "Nothing was done"]),
        ("kudos", "thanks @Martha", ["thanks", "one or more @people"]),
        ("kudos", "@Martha", ["Missing some text (reason)", "Usage: /kudos @to [@to …] [private] reason"]),
        ("floorboard", "", ["Missing action (optout, optin, help)"]),
        ("floorboard", "optinn", ["optinn", "action (optout, optin, help)"]),
        ("me", "@Martha", ["I don't understand @Martha", "a period", "Usage: /me [period] [at]"]),
    ],
)
def test_errors_name_the_token_and_the_choices(name: str, text: str, fragments: list[str]) -> None:
    with pytest.raises(ParseError) as caught:
        _parse(name, text)
    for fragment in fragments:
        assert fragment in caught.value.message


def test_required_param_cannot_be_skipped_by_an_optional_one() -> None:
    def noop(*_: object) -> list[Message]:
        return []

    spec = CommandSpec(
        "demo",
        "",
        noop,
        params=(
            Param("count", ParamKind.INTEGER, "", required=True),
            Param("period", ParamKind.PERIOD, ""),
        ),
    )
    assert parse_args(spec, "3 week", VOCAB) == {"count": 3, "period": Period.WEEK}
    with pytest.raises(ParseError, match="a whole number"):
        parse_args(spec, "week 3", VOCAB)
    assert usage(spec) == "/demo count [period]"


def test_an_unquoted_first_and_last_name_is_read_as_one_mention() -> None:
    named = {
        "Martha Jones": PersonRef(1, "Martha Jones"),
        "Jim Park": PersonRef(2, "Jim Park"),
        "Ann Lee": PersonRef(4, "Ann Lee"),
    }
    alone = {"martha": PersonRef(1, "Martha Jones"), "ann": PersonRef(3, "Ann")}
    vocab = Vocabulary(
        tuple(metric_names()),
        ("blue", "red"),
        lambda handle: alone.get(handle.lower()),
        exact_name=named.get,
    )
    spec = REGISTRY.get("kudos")
    assert spec is not None

    def parsed(line: str) -> tuple[tuple[str, ...], str]:
        args = parse_args(spec, line, vocab)
        return tuple(person.display_name for person in args["to"]), args["reason"]

    # "Martha" alone is the same person: the surname is part of the mention, not of the reason.
    assert parsed("@Martha Jones thanks") == (("Martha Jones",), "thanks")
    # "Jim" alone matches no one; "Jim Park" is exactly a display name.
    assert parsed("@Jim Park, @Martha great save") == (("Jim Park", "Martha Jones"), "great save")
    # "Ann" alone is someone else (Ann, id 3): keep @Ann and the reason as typed.
    assert parsed("@Ann Lee thanks") == (("Ann",), "Lee thanks")
    # Not capitalised, not directly after the mention, or quoted: unchanged.
    assert parsed("@Martha jones thanks") == (("Martha Jones",), "jones thanks")
    assert parsed("@Martha  Jones thanks") == (("Martha Jones",), "Jones thanks")
    assert parsed('@Martha "Jones" thanks') == (("Martha Jones",), '"Jones" thanks')
    # Without an exact-name lookup (an adapter that has none), nothing is joined.
    assert parse_args(spec, "@Martha Jones thanks", VOCAB)["reason"] == "Jones thanks"
