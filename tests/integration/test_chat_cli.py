"""`floorboard say` and `floorboard chat` through the real command line on a seeded SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from bot.cli import build_cli
from bot.store.models import Identity, Kudos
from tests.conftest import make_app
from tests.unit.test_handlers_world import RATINGS, mean, seed


def cli(url: str, *args: str, stdin: str | None = None, code: int = 0) -> str:
    result = CliRunner().invoke(
        build_cli(), list(args), input=stdin, env={"FLOORBOARD_DATABASE_URL": url, "COLUMNS": "200"}
    )
    assert result.exit_code == code, result.output
    return result.output


def _count(url: str, query: object) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(query) or 0)  # type: ignore[arg-type]
    finally:
        engine.dispose()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'floor.db'}"
    app = make_app(url)
    seed(app)
    app.close()
    return url


def test_say_prints_the_public_board_and_the_private_rank(url: str) -> None:
    out = cli(url, "say", "--as", "Dan Fox", "/leaderboard csat day 2021-04-01")
    ranked = sorted((n for n, v in RATINGS.items() if len(v) >= 5), key=mean, reverse=True)
    lines = out.splitlines()
    assert lines[0] == "[#floor] CSAT leaderboard, day 2021-04-01"
    assert [line.split("  ")[1].strip() for line in lines[2:6]] == ranked[:4]
    assert "Top 4 of 8 ranked" in lines[6]
    assert "[private to Dan Fox] Your CSAT rank, day 2021-04-01" in lines
    assert f"You are 6th of 8: CSAT {mean('Dan Fox'):.2f} over 10 surveys." in lines
    assert _count(url, select(func.count()).select_from(Identity).where(Identity.kind == "console")) == 1


def test_say_kudos_with_a_repeated_delivery_id_applies_once(url: str) -> None:
    first = cli(
        url, "say", "--as", "Martha Jones", "--delivery-id", "cli-1", "/kudos @Jim great save #empathy"
    )
    assert "[private to Martha Jones]\nKudos sent to @Jim Park for #empathy." in first
    assert "[team channel: Blue]\n@Martha Jones gave kudos to @Jim Park for #empathy: great save" in first
    assert "[DM to Jim Park]\n@Martha Jones gave you kudos for #empathy: great save (+5 pts)" in first
    again = cli(
        url, "say", "--as", "Martha Jones", "--delivery-id", "cli-1", "/kudos  @Jim great   save #empathy"
    )
    assert "Already done" in again and "[DM to Jim Park]" not in again
    other = cli(url, "say", "--as", "Martha Jones", "--delivery-id", "cli-1", "/kudos @Jim another one")
    assert other == (
        "[private to Martha Jones]\n"
        "This delivery id was already used for a different command; nothing was done.\n"
    )
    assert _count(url, select(func.count()).select_from(Kudos)) == 1
    cli(url, "say", "--as", "Martha Jones", "--channel", "support", "/kudos @Jim great save #empathy")
    assert _count(url, select(func.count()).select_from(Kudos)) == 2


def test_say_refusals_are_private_and_exit_zero(url: str) -> None:
    out = cli(url, "say", "--as", "Jim Park", "/points @Martha")
    assert "You can only see your own points" in out
    assert "There is no command /nope" in cli(url, "say", "--as", "Jim Park", "/nope")
    out = cli(url, "say", "--as", "Martha Jones", "--channel", "support", "/kudos @Zed thanks")
    assert "I don't know anyone called @Zed" in out
    assert _count(url, select(func.count()).select_from(Kudos)) == 0


def test_chat_reads_lines_until_quit(url: str) -> None:
    out = cli(url, "chat", "--as", "Jim Park", stdin="/points why 2021-04-01\n\n/help\nquit\n/me\n")
    assert "[private to Jim Park] Why Jim Park's points changed on 2021-04-01" in out
    assert "CSAT 4.90 over 10 surveys is between 4.8" not in out
    assert "CSAT 4.90 over 10 surveys is at or above 4.8 (20 pts): 20 pts, rule csat-day, program v1" in out
    assert "[private to Jim Park] Floorboard commands" in out
    assert "Public boards" not in out


def test_chat_ends_at_end_of_input(url: str) -> None:
    out = cli(url, "chat", "--as", "Jim Park", stdin="/floorboard optout\n")
    assert "public boards no longer show you" in out


def test_an_unknown_or_ambiguous_caller_exits_1_and_nothing_runs(url: str) -> None:
    out = cli(url, "say", "--as", "Nobody", "/help", code=1)
    assert out == (
        "error: No one called Nobody is on the roster. Use --as with a person's display name (or a console "
        "identity); an admin can add people with the roster import.\n"
    )
    assert "Floorboard commands" not in out
    assert cli(url, "chat", "--as", "Nobody", stdin="/help\n", code=1).startswith(
        "error: No one called Nobody is on the roster."
    )


def test_plain_text_without_a_slash_is_not_a_command(url: str) -> None:
    assert cli(url, "say", "--as", "Jim Park", "hello") == (
        "[private to Jim Park]\nCommands start with /; try /help\n"
    )
    assert cli(url, "say", "--as", "Jim Park", "help") == (
        "[private to Jim Park]\nCommands start with /; try /help\n"
    )
    assert "There is no command /hello." in cli(url, "say", "--as", "Jim Park", "/hello")


def test_cli_leaderboard_never_lists_supervisors_or_admins(url: str) -> None:
    cli(url, "say", "--as", "Martha Jones", '/kudos @"Sam Reed" @"Ada King" thanks for the cover')
    out = cli(url, "leaderboard", "-m", "points", "-p", "day", "--at", "2021-04-01", "-f", "json")
    shown = json.loads(out)
    names = [entry["agent"] for entry in shown["entries"]] + [item["agent"] for item in shown["unranked"]]
    assert sorted(names) == sorted(RATINGS)
    assert shown["entries"][0]["rank"] == 1 and len(shown["entries"]) == len(RATINGS)
    mine = cli(url, "say", "--as", "Sam Reed", "/me")
    assert "Points, all time: 5.00 pts" in mine and "Rank" not in mine
