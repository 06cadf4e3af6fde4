"""Shared fixtures: a migrated database (SQLite, and PostgreSQL when it answers), the app, real data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.app import Floorboard, build
from bot.settings import load_settings
from bot.store.database import upgrade

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
POSTGRES_ADMIN_URL = os.environ.get(
    "FLOORBOARD_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI") == "true"


def shared_file(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        if IN_CI:  # CI lays shared/ beside the clone: a missing file there is a broken run, not a skip
            pytest.fail(f"real input {path} is not present")
        pytest.skip(f"real input {path} is not present")
    return path


def fixed_clock() -> datetime:
    return datetime(2021, 4, 1, 12, 0, tzinfo=UTC)


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_ready() -> bool:
    available = _postgres_available()
    if not available and IN_CI:
        pytest.fail(f"PostgreSQL is required under CI=true but {POSTGRES_ADMIN_URL} does not answer")
    return available


@pytest.fixture
def postgres_url(postgres_ready: bool) -> Iterator[str]:
    """A fresh PostgreSQL schema per test, dropped afterwards."""
    if not postgres_ready:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_ADMIN_URL else "?"
    yield f"{POSTGRES_ADMIN_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'floorboard.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Storage tests run on both backends."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


def make_app(url: str, **overrides: object) -> Floorboard:
    upgrade(url)
    return build(load_settings(database_url=url, **overrides), clock=fixed_clock)


@pytest.fixture
def app(sqlite_url: str) -> Iterator[Floorboard]:
    fb = make_app(sqlite_url)
    yield fb
    fb.close()


@pytest.fixture
def any_app(database_url: str) -> Iterator[Floorboard]:
    fb = make_app(database_url)
    yield fb
    fb.close()
