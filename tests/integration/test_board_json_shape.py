"""The leaderboard JSON is one shape on the web API and the CLI; every `as_of` carries its offset."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

from fastapi.testclient import TestClient

from bot.app import Floorboard
from bot.web.app import create_web_app
from tests.cli_support import cli
from tests.integration.test_webhook_events import AUTH, TOKENS, contact, post


def test_the_web_leaderboard_is_the_clis_json_and_the_teams_as_of_has_an_offset(
    any_app: Floorboard, database_url: str, tmp_path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "name,team,team_from,keys\nAna,north,2021-01-01,acd:ana\nBen,north,2021-01-01,acd:ben\n",
        encoding="utf-8",
    )
    cli(database_url, "roster", "import", str(roster))
    fb = dataclasses.replace(any_app, settings=any_app.settings.model_copy(update={"api_tokens": TOKENS}))
    with TestClient(create_web_app(fb)) as client:
        ana = [contact(f"a{n}", rating=5 if n % 2 else 4) for n in range(20)]
        batch = [*ana, *(contact(f"b{n}", "ben", rating=3) for n in range(20))]
        assert post(client, batch, create=False).status_code == 202
        query = {"metric": "csat", "period": "day", "at": "2021-04-01"}
        web = client.get("/api/v1/leaderboard", params=query, headers=AUTH).json()

    args = ["leaderboard", "--metric", "csat", "--period", "day", "--at", "2021-04-01", "--format", "json"]
    assert web == json.loads(cli(database_url, *args))
    assert [(e["agent"], e["value"], e["samples"]) for e in web["entries"]] == [
        ("Ana", 4.5, 20),
        ("Ben", 3, 20),
    ]
    assert all(set(e) >= {"rank_value", "method"} for e in web["entries"])
    assert web["as_of"] == "2021-04-01T12:00:00+00:00"  # the app's clock stamped the delivery

    teams = json.loads(
        cli(database_url, "teams", "-m", "handled", "-p", "day", "--at", "2021-04-01", "-f", "json")
    )
    assert teams["as_of"] == web["as_of"]
    assert datetime.fromisoformat(teams["as_of"]).utcoffset() is not None
