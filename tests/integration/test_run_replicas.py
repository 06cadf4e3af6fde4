"""Two `floorboard run` processes on one PostgreSQL: each period's standings are posted exactly once, to the
console and, with the numbers of a day of the PwC workbook, to a recording Slack API."""

import csv
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import create_engine, select

from bot.store.models import OutboxMessage, Post
from tests.cli_support import cli
from tests.conftest import shared_file
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import SECRET, text_of


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


AGENTS_OF_THE_WORKBOOK = ("Becky", "Dan", "Diane", "Greg", "Jim", "Joe", "Martha", "Stewart")
PUBLIC_SIZE = 5


def workbook_day() -> tuple[str, list[tuple[object, ...]], Counter[str]]:
    """The workbook's first day whose public top (the first min(5, 8 // 2) = 4 places on handled calls) is
    unambiguous, its rows, and each agent's answered calls that day, counted from the cells."""
    workbook = load_workbook(shared_file("tabular/pwc_call_center_original.xlsx"), read_only=True)
    rows = workbook["Sheet1"].iter_rows(values_only=True)
    header = next(rows)
    by_day: dict[str, list[tuple[object, ...]]] = defaultdict(list)
    for values in rows:
        by_day[str(values[header.index("Date")])].append(values)
    workbook.close()
    for day in sorted(by_day):
        answered = Counter(str(row[1]) for row in by_day[day] if row[header.index("Answered (Y/N)")] == "Y")
        counts = sorted(answered.values(), reverse=True)
        if len(answered) == 8 and len(set(counts[:5])) == 5:
            return day, by_day[day], answered
    raise AssertionError("no day of the workbook has a clear top five")


def as_today(rows: list[tuple[object, ...]], today: date, path: Path) -> None:
    """The day's calls as a pwc-ddmm CSV dated `today` (the run processes keep the real clock)."""

    def clock(value: object) -> str:
        return value.strftime("%H:%M:%S") if isinstance(value, dt_time) else ""

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "call_id",
                "agent",
                "date",
                "time",
                "topic",
                "answered (Y/N)",
                "resolved",
                "speed_of_answer_in_seconds",
                "AvgTalkDuration",
                "SatisfactionRating",
            ]
        )
        for call_id, agent, _day, at, topic, answered, resolved, speed, talk, rating in rows:
            writer.writerow(
                [
                    call_id,
                    agent,
                    today.strftime("%d/%m/%Y"),
                    clock(at),
                    topic,
                    answered,
                    resolved,
                    "" if speed is None else speed,
                    clock(talk),
                    "" if rating is None else rating,
                ]
            )


def test_two_run_processes_with_slack_post_one_standings_with_the_numbers_of_the_data(
    postgres_url: str, tmp_path: Path
) -> None:
    fires = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    day, calls, answered = workbook_day()
    data = tmp_path / "calls.csv"
    as_today(calls, fires.date(), data)
    cli(postgres_url, "db", "upgrade")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "name,team,team_from,keys\n"
        + "".join(f"{agent},blue,2021-01-01,pwc:{agent}\n" for agent in AGENTS_OF_THE_WORKBOOK),
        encoding="utf-8",
    )
    cli(postgres_url, "roster", "import", str(roster))
    cli(postgres_url, "import", str(data), "--mapping", "pwc-ddmm", "--tz", "UTC")
    program = tmp_path / "program.yaml"
    program.write_text(
        "timezone: UTC\n"
        f"leaderboard: {{public_size: {PUBLIC_SIZE}}}\n"
        "teams:\n  blue:\n    channels: [{platform: slack, channel: C0BLUE}]\n"
        f'    daily_standings: {{at: "{fires:%H:%M}", metric: handled, figures: [handled], days: [monday, '
        "tuesday, wednesday, thursday, friday, saturday, sunday], grace_minutes: 30}\n",
        encoding="utf-8",
    )
    with FakeSlack() as slack:
        env = os.environ | {
            "PYTHONUNBUFFERED": "1",
            "FLOORBOARD_DATABASE_URL": postgres_url,
            "FLOORBOARD_PROGRAM_FILE": str(program),
            "FLOORBOARD_SCHEDULE_TICK_SECONDS": "1",
            "FLOORBOARD_SLACK_BOT_TOKEN": "xoxb-test-token",
            "FLOORBOARD_SLACK_SIGNING_SECRET": SECRET,
            "FLOORBOARD_SLACK_API_URL": slack.api_url,
        }
        command = [str(Path(sys.executable).parent / "floorboard"), "run", "--port", "0"]
        replicas = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(2)
        ]
        try:
            slack.wait_calls("chat.postMessage", 1, timeout=90)
            time.sleep(5)  # several more ticks of both replicas
        finally:
            for process in replicas:
                process.send_signal(signal.SIGTERM)
            outputs = [process.communicate(timeout=30)[0] for process in replicas]
        posted = slack.of("chat.postMessage")
    assert all("Slack connected" in output for output in outputs), outputs
    assert [call.args.get("channel") for call in posted] == ["C0BLUE"], outputs
    message = text_of(posted[0].args)
    assert f"Daily standings, team blue: Handled, {fires:%A %Y-%m-%d}" in message

    # The public top computed here: 8 ranked agents, so min(5, 8 // 2) = 4 places; each handled its calls.
    top = answered.most_common(min(PUBLIC_SIZE, len(answered) // 2))
    table = [
        (int(rank), name, int(value), int(samples))
        for rank, name, value, samples in re.findall(r"^\s*(\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s*$", message, re.M)
    ]
    assert table == [(rank, agent, count, count) for rank, (agent, count) in enumerate(top, start=1)], day
    total = sum(answered.values())
    per_agent = f"{total / len(answered):.1f}".rstrip("0").rstrip(".")
    assert f"{per_agent} ({total:,} contacts, {len(answered)} agents)" in message
    with create_engine(postgres_url).connect() as connection:
        posts = connection.execute(select(Post.period).where(Post.status == "queued")).scalars().all()
    assert posts == [fires.date().isoformat()]
