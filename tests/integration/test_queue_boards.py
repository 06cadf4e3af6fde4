"""Queue figures from the PwC workbook: the center-wide abandon rate and service level, abandons per queue.

Every expected figure is computed here from the workbook's own cells. Answered calls are stored on the
agent who took them and abandoned calls on their Topic queue, so the center figure is Σ over every subject
and a queue can only honestly show its abandons.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import create_engine

from bot.app import build
from bot.program import load_program
from bot.scoring.periods import Period
from bot.services.leaderboard import QueueMetric, UnknownBoard, board, queue_board
from bot.settings import load_settings
from bot.web.app import create_web_app
from tests.cli_support import cli
from tests.conftest import fixed_clock, shared_file

XLSX = "tabular/pwc_call_center_original.xlsx"
TOKEN = "queue-board-token-0123456789"
SL_SECONDS = 20  # the default program's service_level_seconds


@pytest.fixture(scope="module")
def workbook() -> dict:
    """Calls, abandons, answers within the service level, and abandons per Topic, from the cells."""
    book = load_workbook(shared_file(XLSX), read_only=True)
    rows = book["Sheet1"].iter_rows(values_only=True)
    header = next(rows)
    calls = abandoned = within = 0
    by_topic: Counter[str] = Counter()
    for values in rows:
        row = dict(zip(header, values, strict=True))
        assert row["Date"].startswith("2021-0") and row["Date"][5:7] in ("01", "02", "03")
        calls += 1
        if row["Answered (Y/N)"] == "N":
            abandoned += 1
            by_topic[row["Topic"]] += 1
        elif row["Speed of answer in seconds"] <= SL_SECONDS:
            within += 1
    book.close()
    return {"calls": calls, "abandoned": abandoned, "within": within, "by_topic": by_topic}


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('queues') / 'fb.db'}"
    cli(url, "db", "upgrade")
    cli(url, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx")
    return url


def test_the_workbook_has_946_abandons_in_5000_calls(workbook):
    assert (workbook["abandoned"], workbook["calls"]) == (946, 5000)


def test_org_abandon_rate_for_the_quarter_is_all_abandons_over_all_calls(imported, workbook):
    out = cli(
        imported, "leaderboard", "-m", "abandon_rate", "-p", "quarter", "--at", "2021-01-15", "-f", "json"
    )

    data = json.loads(out)
    assert data["metric"] == "abandon_rate"
    assert data["period"] == {"start": "2021-01-01", "end": "2021-03-31"}
    assert data["org"] == {"value": pytest.approx(workbook["abandoned"] / workbook["calls"]), "samples": 5000}
    assert data["org"]["value"] == pytest.approx(0.1892)
    assert {q["queue"]: q["abandoned"] for q in data["queues"]} == {
        f"pwc/{topic}": count for topic, count in workbook["by_topic"].items()
    }
    assert [q["abandoned"] for q in data["queues"]] == sorted(workbook["by_topic"].values(), reverse=True)
    assert sum(q["abandoned"] for q in data["queues"]) == 946
    assert set(data) == {"metric", "period", "as_of", "org", "queues"}


def test_org_service_level_counts_abandons_as_missed(imported, workbook):
    out = cli(
        imported,
        "leaderboard",
        "-m",
        "service_level",
        "--queues",
        "-p",
        "quarter",
        "--at",
        "2021-02-01",
        "-f",
        "json",
    )

    org = json.loads(out)["org"]
    assert org == {"value": pytest.approx(workbook["within"] / workbook["calls"]), "samples": 5000}


def test_the_table_shows_the_center_figure_and_each_queue(imported, workbook):
    out = cli(imported, "leaderboard", "-m", "abandon_rate", "-p", "quarter", "--at", "2021-01-15")

    lines = out.splitlines()
    assert lines[0].startswith(
        "Abandon rate, quarter 2021-01-01 – 2021-03-31, whole center: "
        "18.9% over 5,000 offered contacts (as of "
    )
    top_topic, top_count = workbook["by_topic"].most_common(1)[0]
    assert f"pwc/{top_topic}" in lines[5] and lines[5].rstrip(" │").endswith(str(top_count))


def test_agents_are_never_ranked_on_a_queue_metric(imported):
    engine = create_engine(imported)
    program = load_program(None).program
    try:
        with engine.connect() as connection, pytest.raises(QueueMetric) as caught:
            board(connection, program, metric="abandon_rate", period=Period.QUARTER, at=date(2021, 1, 15))
        assert str(caught.value) == (
            "abandon_rate is measured on queues, not on agents (agents take only answered contacts, "
            "so every agent would rank at 0); see the center-wide figure: "
            "floorboard leaderboard --metric abandon_rate --queues"
        )
        with engine.connect() as connection, pytest.raises(UnknownBoard) as refused:
            queue_board(connection, program, metric="csat", period=Period.QUARTER, at=date(2021, 1, 15))
        assert (
            str(refused.value) == "'csat' has no queue board; queue boards show: abandon_rate, service_level"
        )
        with engine.connect() as connection:
            agents = board(
                connection, program, metric="service_level", period=Period.QUARTER, at=date(2021, 1, 15)
            )
        assert len(agents.entries) == 8  # a metric of both scopes still ranks agents
    finally:
        engine.dispose()
    assert cli(imported, "leaderboard", "-m", "csat", "--queues", code=1) == (
        "error: 'csat' has no queue board; queue boards show: abandon_rate, service_level\n"
    )
    assert cli(imported, "leaderboard", "-m", "abandon_rate", "--team", "blue", code=1) == (
        "error: the center-wide figure covers every team; leave out --team\n"
    )


def test_the_web_board_gives_the_same_center_figure(imported, workbook):
    fb = build(load_settings(database_url=imported, api_tokens={TOKEN: "pwc"}), clock=fixed_clock)
    try:
        with TestClient(create_web_app(fb)) as client:
            response = client.get(
                "/api/v1/leaderboard",
                params={"metric": "abandon_rate", "period": "quarter", "at": "2021-01-15"},
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
    finally:
        fb.close()
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["org"] == {"value": pytest.approx(946 / 5000), "samples": 5000}
    assert len(data["queues"]) == len(workbook["by_topic"])
