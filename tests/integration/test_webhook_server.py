"""The webhook over real HTTP: same points as a direct import, concurrency, and `floorboard run`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import Floorboard
from bot.feeds.records import KpiRecord, SubjectRef
from bot.services.ledger import net_points, rollup_sums
from bot.simulator import simulate
from bot.store.database import upgrade
from bot.store.models import Person, Rollup, Subject
from bot.web.app import create_web_app
from bot.web.server import BackgroundServer
from tests.conftest import make_app

TOKEN = "demo-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def as_record(item: dict[str, Any]) -> KpiRecord:
    subject = item["subject"]
    return KpiRecord(
        source=item["source"],
        external_id=item["external_id"],
        version=item["version"],
        subject=SubjectRef(subject["kind"], subject["key"], subject.get("name")),
        occurred_at=datetime.fromisoformat(item["occurred_at"]),
        facts=dict(item["facts"]),
    )


def test_webhook_records_score_exactly_like_imported_ones(tmp_path: Path) -> None:
    records = simulate(3).records()
    direct = make_app(f"sqlite:///{tmp_path / 'direct.db'}")
    webhook = make_app(f"sqlite:///{tmp_path / 'webhook.db'}", api_tokens={TOKEN: "demo-acd"})
    direct.ingest(
        [[as_record(item) for item in records]], source="demo-acd", origin="test", create_unknown=True
    )

    with (
        BackgroundServer(create_web_app(webhook)) as server,
        httpx.Client(base_url=server.url, headers=AUTH) as client,
    ):
        for start in range(0, len(records), 250):
            response = client.post(
                "/api/v1/events",
                json={"records": records[start : start + 250], "create_unknown_agents": True},
            )
            assert response.status_code == 202
            assert {item["status"] for item in response.json()["items"]} == {"accepted"}

    points = net_points(direct.engine)
    assert points, "the simulated day should earn points"
    assert net_points(webhook.engine) == points
    assert rollup_sums(webhook.engine) == rollup_sums(direct.engine)
    direct.close()
    webhook.close()


def test_a_slow_ingest_does_not_block_other_requests(tmp_path: Path) -> None:
    fb = make_app(f"sqlite:///{tmp_path / 'slow.db'}", api_tokens={TOKEN: "demo-acd"}, test_db_delay_ms=30)
    records = simulate(1).records()[:60]
    finished: dict[str, float] = {}

    with BackgroundServer(create_web_app(fb)) as server:

        def post() -> None:
            response = httpx.post(
                f"{server.url}/api/v1/events",
                headers=AUTH,
                timeout=60,
                json={"records": records, "create_unknown_agents": True},
            )
            assert response.status_code == 202
            finished["post"] = time.monotonic()

        poster = threading.Thread(target=post)
        poster.start()
        time.sleep(0.2)
        assert httpx.get(f"{server.url}/healthz", timeout=60).status_code == 200
        finished["health"] = time.monotonic()
        poster.join()

    assert finished["health"] < finished["post"]
    fb.close()


def test_concurrent_redeliveries_count_each_record_once(any_app: Floorboard) -> None:
    any_app.settings = any_app.settings.model_copy(update={"api_tokens": {TOKEN: "demo-acd"}})
    records = simulate(2).records()[:300]
    outcomes: list[list[str]] = []

    with BackgroundServer(create_web_app(any_app)) as server:

        def deliver() -> None:
            response = httpx.post(
                f"{server.url}/api/v1/events",
                headers=AUTH,
                timeout=60,
                json={"records": records, "create_unknown_agents": True},
            )
            assert response.status_code == 202, response.text
            outcomes.append([item["status"] for item in response.json()["items"]])

        threads = [threading.Thread(target=deliver) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(outcomes) == 3
    for index in range(len(records)):
        assert sorted(run[index] for run in outcomes) == ["accepted", "duplicate", "duplicate"]
    handled = defaultdict(int)
    for item in records:
        if item["facts"]["answered"]:
            handled[item["subject"]["name"]] += 1
    with any_app.engine.connect() as connection:
        stored = dict(
            connection.execute(
                select(Person.display_name, func.sum(Rollup.num) / 1_000_000)
                .join(Subject, Subject.person_id == Person.id)
                .join(Rollup, Rollup.subject_id == Subject.id)
                .where(Rollup.metric == "handled")
                .group_by(Person.display_name)
            ).all()
        )
    assert {name: int(count) for name, count in stored.items()} == handled


def _start_run(database_url: str, *extra: str) -> subprocess.Popen[str]:
    env = os.environ | {
        "FLOORBOARD_DATABASE_URL": database_url,
        "FLOORBOARD_API_TOKENS": f'{{"{TOKEN}": "demo-acd"}}',
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "run", "--port", "0", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_floorboard_run_serves_on_a_free_port_and_stops_gracefully(
    tmp_path: Path, stop: signal.Signals
) -> None:
    url = f"sqlite:///{tmp_path / 'run.db'}"
    upgrade(url)
    process = _start_run(url)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line + (
            process.stderr.read() if process.stderr else ""
        )
        base = line.split("listening on ")[1].split()[0]
        assert httpx.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
        posted = httpx.post(f"{base}/api/v1/events", headers=AUTH, timeout=10, json={"records": []})
        assert posted.status_code == 202
        process.send_signal(stop)
        assert process.wait(timeout=15) == 0
        assert "Stopped." in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_floorboard_run_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    process = _start_run(f"sqlite:///{tmp_path / 'empty.db'}")
    _, err = process.communicate(timeout=30)

    assert process.returncode == 1
    missing = tmp_path / "empty.db"
    assert " ".join(err.split()) == f"error: no database at {missing}; run floorboard db upgrade"
    assert not (tmp_path / "empty.db").exists()
