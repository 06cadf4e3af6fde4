"""The outbox dispatcher sending through SlackNotifier to the fake Slack Web API: a channel post, a DM and a
file (files_upload_v2), and a long post whose third page failed, retried without posting its first two
pages again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.adapters.slack.app import create_slack
from bot.handlers.commands import default_registry
from bot.handlers.contract import Destination, DestinationKind, Mention, Message, Table, Text, UserText
from bot.jobs.codec import encode_bytes, encode_message
from bot.jobs.dispatcher import dispatch
from bot.services import outbox, workspaces
from tests.conftest import fixed_clock, make_app
from tests.fakes.slack_api import BROADCASTS
from tests.slack_support import TEAM, seed_roster, slack_settings, text_of

PAGE_NOTE = re.compile(r"^page (\d+) of (\d+)$")
ROWS = tuple((str(rank), f"Agent number {rank}", str(rank * 3)) for rank in range(1, 1201))


@pytest.fixture
def slack_app(sqlite_url, fake):
    fb = make_app(sqlite_url, **slack_settings(fake))
    seed_roster(fb)
    with fb.engine.begin() as connection:
        workspaces.bind(connection, "slack", TEAM, fb.clock())
    yield fb, create_slack(fb, fb.settings, default_registry()).notifier
    fb.close()


def enqueue(fb, key: str, destination: dict, payload: dict) -> None:
    with fb.engine.begin() as connection:
        outbox.enqueue(
            connection,
            dedupe_key=key,
            destination={"platform": "slack", **destination},
            payload=payload,
            now=fb.clock(),
        )


def later(minutes: int):
    return lambda: fixed_clock() + timedelta(minutes=minutes)


async def test_the_dispatcher_posts_dms_and_uploads_through_slack(slack_app, fake):
    fb, notifier = slack_app
    badge = Message(
        Destination(DestinationKind.TEAM_CHANNEL),
        (Mention(1, "Martha Jones"), Text(" earned a badge: "), UserText("<!channel> CSAT month")),
        title="New badge",
    )
    hello = Message(Destination(DestinationKind.DM, person_id=1), (Text("Your week: 12.50 pts"),))
    enqueue(fb, "badge:1", {"channel": "CBLUE"}, {"op": "post", "message": encode_message(badge)})
    enqueue(fb, "week:1", {"person_id": 1}, {"op": "dm", "message": encode_message(hello)})
    upload = {
        "op": "upload",
        "filename": "board.png",
        "data": encode_bytes(b"\x89PNG-bytes"),
        "title": "Board",
    }
    enqueue(fb, "chart:1", {"channel": "CBLUE"}, upload)

    done = await dispatch(fb.engine, {"slack": notifier}, fb.clock)

    assert (done.sent, done.retrying, done.failed) == (3, 0, 0)
    post, dm = fake.of("chat.postMessage")
    assert post.args["channel"] == "CBLUE"
    assert "<@U1> earned a badge: @\u200dchannel CSAT month" in text_of(post.args)
    assert (dm.args["channel"], text_of(dm.args).splitlines()[0]) == ("U1", "Your week: 12.50 pts")
    [complete] = fake.of("files.completeUploadExternal")
    assert complete.args["channel_id"] == "CBLUE"
    [file_id] = fake.uploads
    assert fake.uploads[file_id] == b"\x89PNG-bytes"
    for broadcast in BROADCASTS:
        assert broadcast not in fake.everything()


async def test_a_post_that_failed_on_page_3_resumes_without_reposting_pages_1_and_2(slack_app, fake):
    fb, notifier = slack_app
    board = Message(Destination(DestinationKind.TEAM_CHANNEL), (Table(("#", "Agent", "Handled"), ROWS),))
    enqueue(
        fb,
        "standings:blue:2021-04-01",
        {"channel": "CBLUE"},
        {"op": "post", "message": encode_message(board)},
    )
    fake.fail("chat.postMessage", "internal_error", after=2)

    first = await dispatch(fb.engine, {"slack": notifier}, fb.clock)
    assert (first.sent, first.retrying) == (0, 1)
    assert len(fake.of("chat.postMessage")) == 3  # pages 1 and 2 posted, page 3 refused
    second = await dispatch(fb.engine, {"slack": notifier}, later(1))  # after the outbox's 30 s backoff

    assert (second.sent, second.retrying) == (1, 0)
    calls = fake.of("chat.postMessage")
    pages = [PAGE_NOTE.match(c.args["blocks"][-1]["elements"][0]["text"]).groups() for c in calls]
    count = int(pages[0][1])
    assert count >= 3
    numbers = [int(page) for page, _of in pages]
    assert numbers == [1, 2, 3, *range(3, count + 1)]  # page 3 tried twice (refused once), the rest once
    delivered = calls[:2] + calls[3:]
    rows = [
        line.split()[0]
        for call in delivered
        for block in call.args["blocks"]
        if block["type"] == "section"
        for line in block["text"]["text"].strip("`\n").splitlines()[1:]
    ]
    assert rows == [str(rank) for rank in range(1, 1201)]  # every row once, in order


async def test_an_identical_message_sent_later_is_posted_in_full(slack_app, fake):
    fb, notifier = slack_app
    board = encode_message(
        Message(Destination(DestinationKind.TEAM_CHANNEL), (Table(("#", "Agent", "Handled"), ROWS),))
    )
    enqueue(fb, "standings:monday", {"channel": "CBLUE"}, {"op": "post", "message": board})
    await dispatch(fb.engine, {"slack": notifier}, fb.clock)
    once = len(fake.of("chat.postMessage"))
    enqueue(fb, "standings:tuesday", {"channel": "CBLUE"}, {"op": "post", "message": board})
    await dispatch(fb.engine, {"slack": notifier}, later(1))
    assert len(fake.of("chat.postMessage")) == 2 * once  # another outbox message: its own pages
