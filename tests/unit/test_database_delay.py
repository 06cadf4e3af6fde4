"""FLOORBOARD_TEST_DB_DELAY_MS: a stalled database, played from outside, for the 3-second-ack checks."""

from __future__ import annotations

import time

from sqlalchemy import text

from bot.app import build
from bot.settings import load_settings
from bot.store.database import upgrade


def test_the_test_database_delay_setting_stalls_every_statement_after_start_up(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'slow.db'}"
    upgrade(url)
    monkeypatch.setenv("FLOORBOARD_TEST_DB_DELAY_MS", "400")
    fb = build(load_settings(database_url=url))
    try:
        assert fb.settings.test_db_delay_ms == 400
        started = time.monotonic()
        with fb.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            connection.execute(text("SELECT 2"))
        assert time.monotonic() - started >= 0.8  # two statements, 400 ms each
    finally:
        fb.close()
