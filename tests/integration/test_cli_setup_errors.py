"""A new user's first mistakes on the command line: bad settings, a missing or unreachable database.

Each ends with one line that says what to do and exit code 1: no traceback, no secret, no password, and
no empty database file left behind.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from bot.cli import build_cli
from bot.store.database import UpgradeResult, alembic_config

HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()

SECRET = "k7Qm2v9Lr4Xs8Tn3Wd6Yh1Pz"
UNREACHABLE = "postgresql+psycopg://nobody:hunter2@127.0.0.1:1/db"
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()

# The newest migration, whichever branch added it: the lead re-chains the files when merging.
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def cli(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(build_cli(), list(args), env={"COLUMNS": "200", **env})
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_api_tokens_that_are_not_json_exit_1_with_one_clean_message(tmp_path: Path) -> None:
    env = {"FLOORBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'fb.db'}", "FLOORBOARD_API_TOKENS": "not json"}

    out = cli(env, "batches", "list", code=1)

    assert out == (
        "error: Invalid settings:\n"
        "  FLOORBOARD_API_TOKENS: is not valid JSON (Expecting value: line 1 column 1 (char 0)); "
        'set it to a JSON object such as {"<token of 16+ characters>": "<source>"}\n'
    )
    for command in (["db", "upgrade"], ["leaderboard"], ["run"], ["demo"]):
        assert cli(env, *command, code=1) == out
    assert not (tmp_path / "fb.db").exists()


def test_a_short_token_is_reported_without_any_token(tmp_path: Path) -> None:
    env = {
        "FLOORBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'fb.db'}",
        "FLOORBOARD_API_TOKENS": f'{{"x": "crm", "{SECRET}": "acd"}}',
    }

    out = cli(env, "db", "upgrade", code=1)

    assert out == (
        "error: Invalid settings:\n"
        "  FLOORBOARD_API_TOKENS: tokens for ['crm'] are shorter than 16 characters "
        "(value not shown: it holds secrets)\n"
    )


@pytest.mark.parametrize("command", [["db", "upgrade"], ["leaderboard"], ["run"], ["batches", "list"]])
def test_an_unreachable_database_is_one_line_without_its_password(command: list[str]) -> None:
    out = cli({"FLOORBOARD_DATABASE_URL": UNREACHABLE}, *command, code=1)

    assert out.startswith(
        "error: cannot reach the database postgresql+psycopg://nobody:***@127.0.0.1:1/db: connection failed: "
    )
    assert out.endswith("; check FLOORBOARD_DATABASE_URL\n")
    assert out.count("\n") == 1
    assert "hunter2" not in out


def test_a_sqlite_path_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}"  # a directory, not a file

    out = cli({"FLOORBOARD_DATABASE_URL": url}, "leaderboard", code=1)

    assert out == (
        f"error: cannot reach the database {url}: unable to open database file; "
        "check FLOORBOARD_DATABASE_URL\n"
    )


def test_db_upgrade_says_whether_it_created_or_found_the_database(tmp_path: Path) -> None:
    path = tmp_path / "fb.db"
    env = {"FLOORBOARD_DATABASE_URL": f"sqlite:///{path}"}

    assert cli(env, "db", "upgrade") == f"Created a new database at {path} (revision {HEAD}).\n"
    assert cli(env, "db", "upgrade") == f"{path} is already at revision {HEAD}; nothing to do.\n"
    assert cli(env, "db", "upgrade", "0999", code=1) == (
        "error: cannot upgrade to revision '0999': Can't locate revision identified by '0999'\n"
    )


def test_db_upgrade_fills_an_existing_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()

    out = cli({"FLOORBOARD_DATABASE_URL": f"sqlite:///{path}"}, "db", "upgrade")

    assert out == f"Created the schema in the empty database {path} (revision {HEAD}).\n"


def test_a_migration_from_an_older_revision_names_both() -> None:
    result = UpgradeResult("postgresql+psycopg://ana:***@db/fb", "0001", "0002", new_file=False)

    assert result.describe() == "Migrated postgresql+psycopg://ana:***@db/fb from revision 0001 to 0002."


def test_db_upgrade_creates_missing_directories_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "dir" / "x.db"
    env = {"FLOORBOARD_DATABASE_URL": f"sqlite:///{path}"}

    out = cli(env, "db", "upgrade", code=1)

    assert out == (
        f"error: cannot create the database {path}: the directory {path.parent} does not exist; "
        "create it, or run floorboard db upgrade --create-dirs\n"
    )
    assert not (tmp_path / "no").exists()
    assert (
        cli(env, "db", "upgrade", "--create-dirs") == f"Created a new database at {path} (revision {HEAD}).\n"
    )
    assert path.is_file()


@pytest.mark.parametrize("command", [["leaderboard"], ["run"], ["say", "--as", "Ana", "/help"]])
def test_a_missing_sqlite_file_is_reported_and_not_created(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "missing.db"

    out = cli({"FLOORBOARD_DATABASE_URL": f"sqlite:///{path}"}, *command, code=1)

    assert out == f"error: no database at {path}; run floorboard db upgrade\n"
    assert list(tmp_path.iterdir()) == []


def test_a_relative_sqlite_path_is_reported_as_the_absolute_file(tmp_path: Path) -> None:
    out = cli({"FLOORBOARD_DATABASE_URL": "sqlite:///relative.db"}, "leaderboard", code=1)

    assert out == f"error: no database at {tmp_path / 'relative.db'}; run floorboard db upgrade\n"
    assert not (tmp_path / "relative.db").exists()


@pytest.mark.parametrize("command", [["db", "upgrade"], ["leaderboard"], ["batches", "list"]])
def test_a_postgres_url_without_the_driver_says_to_install_the_postgres_extra(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as after a plain `pip install -e .`

    out = cli({"FLOORBOARD_DATABASE_URL": UNREACHABLE}, *command, code=1)

    assert out == (
        "error: the database postgresql+psycopg://nobody:***@127.0.0.1:1/db needs the Python module "
        "psycopg, which is not installed; install the postgres extra: pip install -e '.[postgres]'\n"
    )
