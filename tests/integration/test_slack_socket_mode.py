"""Socket Mode: the same Bolt app over a websocket of our fake Slack; a replayed envelope acts once."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.adapters.slack.app import create_slack
from bot.adapters.slack.serving import mount
from bot.handlers.commands import default_registry
from bot.store.models import Kudos
from bot.web.app import create_web_app
from bot.web.server import BackgroundServer
from tests.conftest import make_app
from tests.slack_support import TEAM, seed_roster, slack_settings, text_of


def _envelope(envelope_id: str, trigger: str, response_url: str) -> dict:
    return {
        "envelope_id": envelope_id,
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "team_id": TEAM,
            "channel_id": "CFLOOR",
            "user_id": "U1",
            "user_name": "martha",
            "command": "/kudos",
            "text": "<@U9> thanks for the cover",
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": trigger,
        },
    }


def test_socket_mode_acks_every_envelope_and_a_replay_applies_once(database_url, fake):
    fb = make_app(
        database_url, **slack_settings(fake, slack_signing_secret=None, slack_app_token="xapp-1-test")
    )
    seed_roster(fb)
    slack = create_slack(fb, fb.settings, default_registry())
    assert slack.mode == "socket"
    web = create_web_app(fb)
    mount(web, slack)
    server = BackgroundServer(web).start()
    try:
        fake.wait_for(fake.connected)
        assert fake.of("apps.connections.open")
        envelope = _envelope("env-1", "4242.4242.socket", fake.response_url("socket"))
        fake.send_envelope(envelope)
        fake.wait_for(lambda: [a for a in fake.acks if a.get("envelope_id") == "env-1"])
        fake.wait_for(lambda: [c for c in fake.of("respond") if "Kudos sent" in text_of(c.args)])
        # Slack replays the envelope minutes later (same payload, possibly a new envelope id)
        fake.send_envelope(_envelope("env-2", "4242.4242.socket", fake.response_url("socket")))
        fake.wait_for(lambda: [a for a in fake.acks if a.get("envelope_id") == "env-2"])
        fake.wait_for(lambda: [c for c in fake.of("respond") if "already" in text_of(c.args).lower()])
        with fb.engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(Kudos)) == 1
    finally:
        server.stop()
        fb.close()
