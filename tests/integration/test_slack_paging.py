"""Long replies within Slack's five uses of a response_url: the fake refuses a sixth like Slack does, and
Floorboard sends a 3,000-row board's first page through the response_url and the rest through the Web API,
every row once and in order."""

from __future__ import annotations

import re

import httpx
import pytest

from bot.handlers.commands import default_registry
from bot.handlers.contract import CALLER, ORIGIN, Message, Table, Text
from bot.handlers.registry import CommandSpec, Registry
from tests.fakes.slack_api import RESPONSE_URL_USES, FakeSlack
from tests.slack_support import slack_server, text_of

HEADERS = ("#", "Agent", "CSAT", "Surveys")
ROWS = tuple((str(rank), f"Agent number {rank}", f"{rank / 7:.2f}", str(rank * 3)) for rank in range(1, 3001))
PAGE_NOTE = re.compile(r"^page (\d+) of (\d+)$")


def _registry() -> Registry:
    registry = default_registry()
    registry.add(
        CommandSpec(
            "big", "a 3,000-row board, privately", lambda _c, _x: [Message(CALLER, (Table(HEADERS, ROWS),))]
        )
    )
    registry.add(
        CommandSpec(
            "bigpublic",
            "a 3,000-row board in the channel and a private line",
            lambda _c, _x: [
                Message(ORIGIN, (Table(HEADERS, ROWS),), title="Big board"),
                Message(CALLER, (Text("you: 7th"),)),
            ],
        )
    )
    registry.add(
        CommandSpec(
            "seven",
            "seven short private replies",
            lambda _c, _x: [Message(CALLER, (Text(f"reply {n}"),)) for n in range(1, 8)],
        )
    )
    return registry


@pytest.fixture
def paging(sqlite_url, fake):
    with slack_server(sqlite_url, fake, registry=_registry()) as (fb, driver):
        yield fb, driver


def test_the_fake_refuses_a_sixth_use_of_a_response_url_like_slack(fake: FakeSlack):
    with httpx.Client() as http:
        answers = [
            http.post(fake.response_url("once"), json={"text": f"post {n}"})
            for n in range(RESPONSE_URL_USES + 1)
        ]
    assert [answer.status_code for answer in answers] == [200] * RESPONSE_URL_USES + [404]
    assert answers[-1].text == "used_url"
    assert len(fake.of("respond")) == RESPONSE_URL_USES
    [refused] = fake.of("respond_refused")
    assert refused.args["text"] == "post 5"


def _pages(payloads: list[dict]) -> list[tuple[int, int, list[str]]]:
    """(page, pages, rows) of each Slack message of a paged board."""
    out = []
    for payload in payloads:
        blocks = payload["blocks"]
        note = PAGE_NOTE.match(blocks[-1]["elements"][0]["text"])
        assert note, blocks[-1]
        rows = []
        for block in blocks:
            if block["type"] == "section":
                lines = block["text"]["text"].strip("`\n").splitlines()
                assert lines[0].split() == list(HEADERS)  # the header repeats on every page
                rows.extend(lines[1:])
        out.append((int(note.group(1)), int(note.group(2)), rows))
    return out


def _assert_every_row_once_in_order(pages: list[tuple[int, int, list[str]]]) -> int:
    count = pages[0][1]
    assert [page for page, _of, _rows in pages] == list(range(1, count + 1))
    assert {of for _page, of, _rows in pages} == {count}
    rows = [row.split() for _page, _of, page_rows in pages for row in page_rows]
    assert [row[0] for row in rows] == [str(rank) for rank in range(1, 3001)]
    assert rows[-1] == ["3000", "Agent", "number", "3000", "428.57", "9000"]
    return count


def test_a_3000_row_private_board_uses_the_response_url_once_and_ephemerals_for_the_rest(paging, fake):
    _fb, driver = paging
    _response, name = driver.command("/floorboard", "big", user="U1")
    [first] = driver.replies(name)
    assert first["response_type"] == "ephemeral"
    count = int(PAGE_NOTE.match(first["blocks"][-1]["elements"][0]["text"]).group(2))
    assert count > RESPONSE_URL_USES  # more pages than a response_url could ever take
    rest = fake.wait_calls("chat.postEphemeral", count - 1)
    assert {(call.args["channel"], call.args["user"]) for call in rest} == {("CFLOOR", "U1")}
    pages = _pages([first, *[call.args for call in rest]])
    assert _assert_every_row_once_in_order(pages) == count
    assert [c for c in fake.of("respond") if c.args["_response_url"] == name] == [fake.of("respond")[-1]]
    assert fake.of("respond_refused") == []
    assert fake.of("chat.postMessage") == []  # nothing public, nothing by DM


def test_a_3000_row_public_board_posts_its_other_pages_in_the_channel(paging, fake):
    _fb, driver = paging
    _response, name = driver.command("/floorboard", "bigpublic", user="U1")
    first, mine = driver.replies(name, count=2)
    assert (first["response_type"], mine["response_type"]) == ("in_channel", "ephemeral")
    assert "you: 7th" in text_of(mine)
    count = int(PAGE_NOTE.match(first["blocks"][-1]["elements"][0]["text"]).group(2))
    rest = fake.wait_calls("chat.postMessage", count - 1)
    assert {call.args["channel"] for call in rest} == {"CFLOOR"}
    assert _assert_every_row_once_in_order(_pages([first, *[call.args for call in rest]])) == count
    assert fake.of("respond_refused") == []


def test_a_bot_outside_the_channel_sends_the_other_pages_by_dm(paging, fake):
    _fb, driver = paging
    fake.errors["chat.postEphemeral"] = "not_in_channel"
    _response, name = driver.command("/floorboard", "big", user="U1")
    [first] = driver.replies(name)
    count = int(PAGE_NOTE.match(first["blocks"][-1]["elements"][0]["text"]).group(2))
    dms = fake.wait_calls("chat.postMessage", count - 1)
    assert {call.args["channel"] for call in dms} == {"U1"}
    assert _assert_every_row_once_in_order(_pages([first, *[call.args for call in dms]])) == count


def test_more_replies_than_uses_go_on_through_the_web_api(paging, fake):
    _fb, driver = paging
    _response, name = driver.command("/floorboard", "seven", user="U1")
    through_url = driver.replies(name, count=RESPONSE_URL_USES)
    rest = fake.wait_calls("chat.postEphemeral", 2)
    shown = [text_of(reply) for reply in through_url] + [text_of(call.args) for call in rest]
    assert [text.splitlines()[0] for text in shown] == [f"reply {n}" for n in range(1, 8)]
    assert len([c for c in fake.of("respond") if c.args["_response_url"] == name]) == RESPONSE_URL_USES
    assert fake.of("respond_refused") == []


def test_a_response_url_slack_refuses_is_not_tried_again(paging, fake):
    _fb, driver = paging
    with httpx.Client() as http:
        for n in range(RESPONSE_URL_USES):  # another app (or a retry) used it up
            http.post(fake.response_url("spent"), json={"text": f"earlier {n}"})
    driver.command("/floorboard", "seven", user="U1", response="spent")
    rest = fake.wait_calls("chat.postEphemeral", 7)
    assert [text_of(call.args).splitlines()[0] for call in rest] == [f"reply {n}" for n in range(1, 8)]
    assert len(fake.of("respond_refused")) == 1  # one refusal, then only the Web API
