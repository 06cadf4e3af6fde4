"""`floorboard demo`: a fresh machine, a simulated day posted over HTTP, percentiles and standings shown."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path
from statistics import quantiles

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli import build_cli
from bot.simulator import simulate


@pytest.fixture
def bare_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory and no FLOORBOARD_* settings."""
    for name in [name for name in os.environ if name.startswith("FLOORBOARD_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def simulated_day(output: str) -> date:
    found = re.search(r"contacts on \w+ (\d{4}-\d{2}-\d{2})", output)
    assert found, output
    return date.fromisoformat(found.group(1))


def row_numbers(output: str, label: str) -> list[float]:
    row = next(line for line in output.splitlines() if label in line)
    return [float(cell) for cell in re.findall(r"\d+(?:\.\d+)?", row.split(label, 1)[1])]


def test_demo_runs_end_to_end_on_a_bare_machine(bare_machine: Path) -> None:
    (bare_machine / "floorboard-demo.db").write_text("an old demo database")

    result = CliRunner().invoke(build_cli(), ["demo", "--seed", "7"])

    assert result.exit_code == 0, result.output
    out = result.output
    records = simulate(7, simulated_day(out)).records()
    calls = [r["facts"] for r in records if r["facts"]["answered"]]

    def p10_50_90(values: list[float]) -> list[float]:
        cuts = quantiles(values, n=10, method="inclusive")
        return [cuts[0], cuts[4], cuts[8]]

    expected = {
        "Handle time (s)": p10_50_90([f["talk"] + f["hold"] + f["acw"] for f in calls]),
        "Wait before answer (s)": p10_50_90([f["wait"] for f in calls]),
        "CSAT (1-5)": p10_50_90([f["rating"] for f in calls if f["rating"] is not None]),
    }
    for label, values in expected.items():
        assert row_numbers(out, label) == pytest.approx(values, abs=0.051), label
    assert f"Simulated {len(records)} contacts" in out
    assert f"{len(records)} accepted, 0 duplicate, 0 parked, 0 rejected" in " ".join(out.split())
    assert f"Redelivered the first batch: {len(records)} duplicate, 0 accepted" in " ".join(out.split())
    assert "Points leaderboard" in out
    assert "CSAT leaderboard, day" in out
    assert "> /points why" in out
    assert "Net change" in out
    assert "[#billing] Daily standings, team Billing: Points," in out
    assert "[#billing] Weekly recap, team Billing, week " in out
    assert "[file: Team Billing trend, week " in out

    with sqlite3.connect(bare_machine / "floorboard-demo.db") as db:
        stored = db.execute("SELECT count(*) FROM kpi_records").fetchone()[0]
        abandons_on_agents = db.execute(
            "SELECT count(*) FROM kpi_records r JOIN subjects s ON s.id = r.subject_id "
            "WHERE s.kind = 'agent' AND r.facts LIKE '%\"abandoned\": true%'"
        ).fetchone()[0]
    assert stored == len(records)
    assert abandons_on_agents == 0


def test_demo_uses_the_configured_database_when_one_is_set(bare_machine: Path) -> None:
    url = f"sqlite:///{bare_machine / 'mine.db'}"

    result = CliRunner().invoke(build_cli(), ["demo", "--seed", "3"], env={"FLOORBOARD_DATABASE_URL": url})

    assert result.exit_code == 0, result.output
    assert (bare_machine / "mine.db").exists()
    assert not (bare_machine / "floorboard-demo.db").exists()


def test_demo_serve_keeps_serving_until_interrupted(bare_machine: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("FLOORBOARD_")}
    process = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "demo", "--serve"],
        cwd=bare_machine,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Serving on "):
                break
        base = lines[-1].split()[2]
        curl = next(line for line in process.stdout if "curl -H" in line)
        token = re.search(r"Bearer (\S+)'", curl).group(1)  # type: ignore[union-attr]
        board = httpx.get(
            f"{base}/api/v1/leaderboard",
            params={"metric": "csat", "period": "day"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert board.status_code == 200
        assert len(board.json()["entries"]) >= 5
        process.terminate()
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
