"""Process settings, read from FLOORBOARD_* environment variables (and an optional .env) when asked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

#: Settings whose values are secrets: an error names the variable but never echoes what it holds.
SECRET_FIELDS = frozenset(
    {"api_tokens", "discord_token", "slack_bot_token", "slack_signing_secret", "slack_app_token"}
)
_JSON_FIELDS = {"api_tokens": '{"<token of 16+ characters>": "<source>"}'}
_PASSWORD = re.compile(r"(?P<scheme>://[^:/@]*):[^@/]*@")
_FIELD = re.compile(r'field "(?P<field>\w+)"')


class SettingsError(RuntimeError):
    """Raised with a message that says which variable to set and how."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOORBOARD_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///floorboard.db",
        description="SQLAlchemy URL: sqlite:///path.db (default) or postgresql+psycopg://user@host/db",
    )
    redis_url: str | None = Field(default=None, description="redis://host:6379/0; optional")
    program_file: Path | None = Field(
        default=None, description="gamification program YAML; built-in default if unset"
    )
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    api_tokens: dict[str, str] = Field(
        default_factory=dict,
        description='webhook bearer tokens bound to sources, JSON: {"token": "source"}',
    )
    max_batch_records: int = Field(default=1000, ge=1, le=100_000)
    max_body_bytes: int = Field(default=5_000_000, ge=1024)
    console_namespace: str = "console"
    # Scheduled posts (docs/program.md, "teams"): how often `floorboard run` ticks; 0 turns the scheduler off.
    schedule_tick_seconds: float = Field(default=30, ge=0, le=3600)
    test_db_delay_ms: int = Field(default=0, ge=0, description="test only: added to every database call")
    # Slack (README "Connect to Slack"): a bot token plus the signing secret (HTTP mode on /slack/events)
    # or an app token (Socket Mode).
    slack_bot_token: str | None = Field(default=None, description="the bot token, xoxb-…")
    slack_signing_secret: str | None = Field(default=None, description="verifies HTTP-mode requests")
    slack_app_token: str | None = Field(
        default=None, description="xapp-… with connections:write: Socket Mode"
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Slack Web API base URL (GovSlack, a recording server)"
    )
    slack_supervisor_group: str | None = Field(
        default=None, description="a Slack user group id whose members supervise every team"
    )
    slack_supervisor_groups: Annotated[dict[str, tuple[str, ...]], NoDecode] = Field(
        default_factory=dict,
        description=(
            "Slack user groups of supervisors and the team keys each one supervises, e.g."
            " S0EAST=east;north,S0WEST=west; a group listed without teams supervises every team"
        ),
    )
    slack_admin_group: str | None = Field(default=None, description="a Slack user group id of admins")
    slack_group_cache_seconds: float = Field(
        default=300, ge=0, description="how long Slack user groups' members and users.info answers are kept"
    )

    # Discord (bot/adapters/discord): `floorboard run` starts the client when the token is set.
    discord_token: str | None = Field(default=None, description="the bot token (Developer Portal → Bot)")
    discord_application_id: int | None = Field(
        default=None, description="the application id; read from Discord at login when unset"
    )
    discord_dev_guild_ids: list[int] = Field(
        default_factory=list,
        description="JSON list of guild ids: commands sync to these guilds only (development); empty: global",
    )
    discord_global_commands: bool = Field(
        default=False,
        description=(
            "sync commands globally even though discord_dev_guild_ids is set, and empty those guilds' own"
            " lists (switching a development server to production without listing commands twice)"
        ),
    )
    discord_supervisor_role_ids: list[int] = Field(
        default_factory=list, description="JSON list of Discord role ids whose members are supervisors"
    )
    discord_admin_role_ids: list[int] = Field(
        default_factory=list, description="JSON list of Discord role ids whose members are admins"
    )
    discord_api_base_url: str | None = Field(
        default=None,
        description="REST base URL override, e.g. http://127.0.0.1:9000/api/v10 (tests, proxies)",
    )
    discord_gateway_url: str | None = Field(
        default=None, description="gateway URL override, e.g. ws://127.0.0.1:9000/gateway (tests, proxies)"
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("slack_supervisor_groups", mode="before")
    @classmethod
    def _group_teams(cls, value: object) -> object:
        return parse_group_teams(value) if isinstance(value, str) else value

    @field_validator("api_tokens")
    @classmethod
    def _tokens_are_long(cls, value: dict[str, str]) -> dict[str, str]:
        short = [source for token, source in value.items() if len(token) < 16]
        if short:
            raise ValueError(f"tokens for {short} are shorter than 16 characters")
        return value


_USER_GROUP = re.compile(r"S[A-Z0-9]+")


def parse_group_teams(text: str) -> dict[str, tuple[str, ...]]:
    """`S0EAST=east;north,S0ALL` → {"S0EAST": ("east", "north"), "S0ALL": ()}: no teams means every team."""
    groups: dict[str, tuple[str, ...]] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        group, _, teams = entry.partition("=")
        group = group.strip()
        if not _USER_GROUP.fullmatch(group):
            raise ValueError(
                f"{entry!r} does not start with a Slack user group id (S0…); write GROUP=team;team "
                "entries separated by commas, e.g. S0EAST=east;north,S0WEST=west"
            )
        groups[group] = tuple(key.strip() for key in teams.split(";") if key.strip())
    return groups


def load_settings(**overrides: object) -> Settings:
    """Read settings now (never at import time); explain what to set when they are invalid.

    The message names each variable and what is wrong with it. It never repeats a secret (the API
    tokens) and hides the password of a database or Redis URL.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = list(dict.fromkeys(_problem(problem) for problem in error.errors()))
    except SourceError as error:
        lines = [_unparsable(error)]
    raise SettingsError("Invalid settings:\n  " + "\n  ".join(lines))


def _problem(problem: Any) -> str:
    loc = [str(part) for part in problem["loc"]]
    field = loc[0] if loc else "settings"
    message = str(problem["msg"]).removeprefix("Value error, ")
    if field in SECRET_FIELDS:
        return f"{_variable(field)}: {message} (value not shown: it holds secrets)"
    name = "FLOORBOARD_" + "_".join(loc).upper()
    return f"{name}: {message} (got {_hide_password(problem.get('input'))!r})"


def _unparsable(error: SourceError) -> str:
    """pydantic-settings could not decode a variable (a JSON one that is not JSON); never echo it."""
    found = _FIELD.search(str(error))
    field = found.group("field") if found else "settings"
    cause = f" ({error.__cause__})" if error.__cause__ is not None else ""
    expected = _JSON_FIELDS.get(field)
    hint = f"; set it to a JSON object such as {expected}" if expected else ""
    return f"{_variable(field)}: is not valid JSON{cause}{hint}"


def _variable(field: str) -> str:
    return f"FLOORBOARD_{field.upper()}"


def _hide_password(value: object) -> object:
    if isinstance(value, str):
        return _PASSWORD.sub(r"\g<scheme>:***@", value)
    return value
