"""Fixtures of the Slack tests: a fake Slack Web API on port 0, and Floorboard serving Slack against it."""

from __future__ import annotations

import pytest

from tests.fakes.slack_api import FakeSlack
from tests.slack_support import slack_server


@pytest.fixture
def fake():
    """The recording fake of the Slack Web API (and Socket Mode), on a free port."""
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def served(sqlite_url, fake):
    """(Floorboard, SlackDriver): the real Bolt app on a web server of ours, answering to `fake`."""
    with slack_server(sqlite_url, fake) as (fb, driver):
        yield fb, driver
