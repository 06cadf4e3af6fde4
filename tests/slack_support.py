"""Driving Floorboard's Slack side like Slack does: signed requests to /slack/events over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import update

from bot.adapters.slack.serving import EVENTS_PATH, attach
from bot.app import Floorboard
from bot.handlers.commands import default_registry
from bot.handlers.registry import Registry
from bot.services.roster import import_roster, parse_roster
from bot.store.models import Team
from bot.web.app import create_web_app
from bot.web.server import BackgroundServer
from tests.conftest import fixed_clock, make_app
from tests.fakes.slack_api import FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T1"
ROSTER = """name,email,role,team,team_from,supervises,keys
Martha Jones,martha@example.com,agent,blue,2021-01-01,,pwc:Martha;slack:T1/U1
Jim Beam,jim@example.com,agent,blue,2021-01-01,,pwc:Jim
Greg Ory,,agent,red,2021-01-01,,pwc:Greg
Sue Boss,sue@example.com,supervisor,,,blue;red,slack:T1/U9
Ann Admin,ann@example.com,admin,,,,slack:T1/U7
"""


def slack_settings(fake: FakeSlack, **overrides: Any) -> dict[str, Any]:
    return {
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SECRET,
        "slack_api_url": fake.api_url,
        **overrides,
    }


def seed_roster(fb: Floorboard, text: str = ROSTER) -> None:
    rows = parse_roster(text, "roster.csv")
    import_roster(fb.engine, rows, origin="roster.csv", today=date(2021, 4, 1), clock=fixed_clock)
    with fb.engine.begin() as connection:
        connection.execute(update(Team).where(Team.key == "blue").values(channels={"slack": "CBLUE"}))


def signed_headers(body: str, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 signature: HMAC-SHA256 of `v0:{timestamp}:{body}` keyed by the signing secret."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


class SlackDriver:
    """Sends slash commands, events and interactions to a Floorboard web server as Slack would."""

    def __init__(self, url: str, fake: FakeSlack, secret: str = SECRET) -> None:
        self.url = url.rstrip("/") + EVENTS_PATH
        self.fake = fake
        self.secret = secret
        self.http = httpx.Client(timeout=30)

    def command(
        self,
        command: str,
        text: str = "",
        *,
        user: str = "U1",
        team: str = TEAM,
        channel: str = "CFLOOR",
        trigger: str | None = None,
        retry: int | None = None,
        response: str | None = None,
    ) -> tuple[httpx.Response, str]:
        """POST a slash command; returns the response and the response_url name its replies go to
        (`response` names it, e.g. to send a response_url that is used up already)."""
        trigger = trigger or f"{uuid.uuid4().int % 10**12}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"
        name = response or uuid.uuid4().hex
        form = {
            "token": "legacy-unused",
            "team_id": team,
            "team_domain": "floor",
            "channel_id": channel,
            "channel_name": "floor",
            "user_id": user,
            "user_name": f"user-{user.lower()}",
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": self.fake.response_url(name),
            "trigger_id": trigger,
        }
        body = urlencode(form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body, self.secret)}
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.http.post(self.url, content=body, headers=headers), name

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> httpx.Response:
        payload = {
            "token": "legacy-unused",
            "team_id": TEAM,
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
        }
        body = json.dumps(payload)
        headers = {"Content-Type": "application/json", **signed_headers(body, self.secret)}
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.http.post(self.url, content=body, headers=headers)

    def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body, self.secret)}
        return self.http.post(self.url, content=body, headers=headers)

    def replies(self, name: str, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
        """The response_url posts for one command, waiting until `count` have arrived."""

        def found() -> list[dict[str, Any]] | None:
            posts = [call.args for call in self.fake.of("respond") if call.args["_response_url"] == name]
            return posts if len(posts) >= count else None

        return self.fake.wait_for(found, timeout)

    def close(self) -> None:
        self.http.close()


@contextmanager
def slack_server(
    url: str, fake: FakeSlack, registry: Registry | None = None, **overrides: Any
) -> Iterator[tuple[Floorboard, SlackDriver]]:
    """A migrated app with the roster, its web server with Slack in HTTP mode, and a driver."""
    fb = make_app(url, **slack_settings(fake, **overrides))
    seed_roster(fb)
    web = create_web_app(fb)
    attach(fb, fb.settings, web, registry or default_registry())
    server = BackgroundServer(web).start()
    driver = SlackDriver(server.url, fake)
    try:
        yield fb, driver
    finally:
        driver.close()
        server.stop()
        fb.close()


def view_submission(
    view_id: str, callback_id: str, values: dict[str, Any], user: str = "U1"
) -> dict[str, Any]:
    """The view_submission payload of a modal opened from #CFLOOR, with these input values."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "floor"},
        "user": {"id": user, "name": f"user-{user.lower()}"},
        "trigger_id": f"trig-{view_id}",
        "view": {
            "id": view_id,
            "team_id": TEAM,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": '{"channel": "CFLOOR"}',
            "state": {"values": values},
        },
    }


def kudos_submission(view_id: str, users: list[str], reason: str, user: str = "U1") -> dict[str, Any]:
    """The view_submission payload of the "Give kudos" modal opened from #CFLOOR."""
    values = {
        "to": {"users": {"type": "multi_users_select", "selected_users": users}},
        "reason": {"text": {"type": "plain_text_input", "value": reason}},
    }
    return view_submission(view_id, "fb_kudos", values, user)


def text_of(payload: dict[str, Any]) -> str:
    """Every text of a Slack message payload (blocks and fallback), joined."""
    parts = [str(payload.get("text") or "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    blocks = payload.get("blocks")
    walk(json.loads(blocks) if isinstance(blocks, str) else blocks)
    return "\n".join(parts)


def tmp_file(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path
