"""The message catalogue, number formats and explanations of ledger rows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.handlers.contract import Role
from bot.messages import UnknownMessage, explain, formats, render
from bot.messages.catalogue import message_ids
from bot.scoring.periods import Period

BOT = Path(__file__).resolve().parents[2] / "bot"
_LITERAL_ID = re.compile(
    r"""render\(\s*"([a-z_]+(?:\.[a-z_]+)+)"|segments\(\s*"([a-z_.]+)"|"((?:[a-z_]+\.)+[a-z_]+)",\s*locale"""
)


def test_every_literal_message_id_in_the_code_is_in_the_catalogue() -> None:
    known = message_ids()
    used = set()
    for path in BOT.rglob("*.py"):
        for match in _LITERAL_ID.finditer(path.read_text(encoding="utf-8")):
            used.add(next(group for group in match.groups() if group))
    assert len(used) > 40
    assert sorted(used - known) == []


def test_every_dynamic_message_family_is_complete() -> None:
    known = message_ids()
    families = {
        "kudos.refused": ["no_receivers", "self", "reason", "too_long", "allowance", "value", "no_values"],
        "period": [p.value for p in Period],
        "points.this": [p.value for p in Period],
        "roles": [r.value for r in Role],
        "privacy.hidden": ["changed", "unchanged"],
        "privacy.shown": ["changed", "unchanged"],
        "leaderboard.not_posted": ["small", "hidden"],
        "leaderboard.full.scope": ["everyone", "supervised"],
        "me.better": ["higher", "lower"],
        "me.column": ["kpi", "value", "samples", "target", "status"],
        "explain.points.zone": ["between", "below", "above", "outside"],
        "console.to": ["caller", "origin", "team_channel", "dm"],
        "kudos": ["confirm", "confirm_tagged", "post", "post_tagged", "dm", "dm_tagged"],
        "parse.expect": [
            "person",
            "people",
            "date",
            "integer",
            "text",
            "metric",
            "period",
            "team",
            "league",
            "choice",
        ],
    }
    missing = [f"{family}.{key}" for family, keys in families.items() for key in keys]
    assert [message_id for message_id in missing if message_id not in known] == []


def test_render_plural_fallback_and_unknown() -> None:
    assert render("samples.surveys", count=1) == "1 survey"
    assert render("samples.surveys", count=12) == "12 surveys"
    assert render("common.or", locale="fr") == " or "
    with pytest.raises(UnknownMessage):
        render("no.such.message")


def test_explanations_from_template_and_inputs() -> None:
    zone = {
        "metric": "csat",
        "unit": "score",
        "value": 4.3125,
        "samples": 12,
        "lower": [4.2, 10],
        "upper": [4.8, 20],
        "points": 11.8,
        "rule": "csat-day",
        "version": 1,
        "weight": 1.0,
    }
    assert explain("points.zone", zone) == (
        "CSAT 4.31 over 12 surveys is between 4.2 (10 pts) and 4.8 (20 pts): "
        "11.8 pts, rule csat-day, program v1"
    )
    reversal = {"rule": "csat-day", "version": 1, "reversed": 9.18}
    assert explain("points.reversal", reversal) == (
        "reversed 9.18 pts of rule csat-day (program v1): the day's data changed"
    )
    aht = {
        "metric": "aht",
        "unit": "seconds",
        "value": 290.0,
        "samples": 1,
        "lower": None,
        "upper": [300, 15],
        "points": 7.5,
        "rule": "aht-day",
        "version": 2,
        "weight": 0.5,
    }
    assert explain("points.zone", aht) == (
        "AHT 4m 50s over 1 contact is at or below 5m 00s (15 pts): "
        "7.5 pts, rule aht-day, program v2 (weight 0.5)"
    )
    fcr = {
        "metric": "fcr",
        "unit": "fraction",
        "value": 0.97,
        "samples": 30,
        "lower": [0.95, 15],
        "upper": None,
        "points": 15,
        "rule": "fcr-day",
        "version": 1,
    }
    assert explain("points.zone", fcr) == (
        "FCR 97.0% over 30 contacts is at or above 95% (15 pts): 15 pts, rule fcr-day, program v1"
    )
    kudos = {"giver": 7, "reason": "great save", "value": "empathy", "kudos_id": 1, "points": 5.0}
    assert explain("points.kudos", kudos, names={7: "Martha Jones"}) == (
        "kudos from Martha Jones (#empathy): great save: 5 pts"
    )
    assert explain("points.kudos", kudos | {"value": None}) == "kudos from a colleague: great save: 5 pts"
    assert explain("points.mystery", {"points": 2.5}) == "2.5 pts (points.mystery)"


@pytest.mark.parametrize(
    ("unit", "value", "expected"),
    [
        ("seconds", 225, "3m 45s"),
        ("seconds", 45, "45.0s"),
        ("seconds", 3725, "1h 02m 05s"),
        ("fraction", 0.875, "87.5%"),
        ("score", 4.3125, "4.31"),
        ("count", 42.0, "42"),
        ("count", 2.5, "2.5"),
        ("points", 12.5, "12.50"),
    ],
)
def test_values_are_formatted_per_unit(unit: str, value: float, expected: str) -> None:
    assert formats.value(unit, value) == expected


def test_hundredths_trim_and_ordinals() -> None:
    assert [formats.hundredths(a) for a in (0, 5, 1150, -918, -5)] == [
        "0.00",
        "0.05",
        "11.50",
        "-9.18",
        "-0.05",
    ]
    assert formats.signed_hundredths(250) == "+2.50"
    assert [formats.trim(x) for x in (11.8, 9.18, 10.0, -0.001)] == ["11.8", "9.18", "10", "0"]
    ranks = (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111, 112)
    assert [formats.ordinal(r) for r in ranks] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "23rd",
        "101st",
        "111th",
        "112th",
    ]
