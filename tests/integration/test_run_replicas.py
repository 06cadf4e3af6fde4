"""Two `floorboard run` processes on one PostgreSQL: each period's standings are posted exactly once."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select

from bot.store.models import OutboxMessage, Post
from tests.cli_support import cli


def test_two_run_processes_post_the_standings_once(postgres_url: str, tmp_path: Path) -> None:
    cli(postgres_url, "db", "upgrade")
    roster = tmp_path / "roster.csv"
    roster.write_text("name,team,team_from\nAnn,blue,2021-01-01\nBob,blue,2021-01-01\n", encoding="utf-8")
    cli(postgres_url, "roster", "import", str(roster))
    fires = datetime.now(UTC) - timedelta(minutes=1)
    at = fires.strftime("%H:%M")
    program = tmp_path / "program.yaml"
    program.write_text(
        "teams:\n  blue:\n    channels: [{platform: console, channel: blue-floor}]\n"
        f'    daily_standings: {{at: "{at}", days: [monday, tuesday, wednesday, thursday, friday, saturday, '
        "sunday], grace_minutes: 30}\n",
        encoding="utf-8",
    )
    env = os.environ | {
        "FLOORBOARD_DATABASE_URL": postgres_url,
        "FLOORBOARD_PROGRAM_FILE": str(program),
        "FLOORBOARD_SCHEDULE_TICK_SECONDS": "1",
    }
    command = [sys.executable, "-c", "from bot.cli import main; main()", "run", "--port", "0"]
    replicas = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    engine = create_engine(postgres_url)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                statuses = connection.scalars(select(OutboxMessage.status)).all()
            if statuses and all(status == "sent" for status in statuses):
                break
            time.sleep(0.5)
        time.sleep(4)  # several more ticks of both replicas
    finally:
        for process in replicas:
            process.send_signal(signal.SIGTERM)
        outputs = [process.communicate(timeout=30)[0] for process in replicas]
    with engine.connect() as connection:
        posts = connection.execute(select(Post.period, Post.status).where(Post.status == "queued")).all()
        outbox = connection.execute(select(OutboxMessage.status, OutboxMessage.attempts)).all()
    engine.dispose()
    assert [tuple(post) for post in posts] == [(fires.date().isoformat(), "queued")]
    assert [tuple(row) for row in outbox] == [("sent", 1)]
    printed = sum(output.count("[#blue-floor] Daily standings, team blue") for output in outputs)
    assert printed == 1, outputs
