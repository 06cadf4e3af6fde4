"""Outbox leases: a slow batch of sends never lets another dispatcher send the same message again."""

import asyncio
from datetime import UTC, datetime, timedelta

from bot.adapters.console import render_segments
from bot.handlers.contract import Destination, DestinationKind, Message, Text
from bot.jobs.codec import encode_message
from bot.jobs.dispatcher import dispatch
from bot.services import outbox
from bot.store.models import OutboxMessage
from tests.conftest import make_app
from tests.integration.test_scheduled_posts import FrozenClock, Recording, rows

START = datetime(2021, 4, 1, 21, 0, tzinfo=UTC)
SEND_TAKES = timedelta(seconds=50)  # five sends take 250 s: more than twice the 2-minute lease
MESSAGES = [f"message {number}" for number in range(5)]


class SlowRecording(Recording):
    """A notifier whose every send takes SEND_TAKES on the shared clock and lets other tasks run meanwhile."""

    def __init__(self, clock: FrozenClock) -> None:
        super().__init__()
        self.clock = clock

    async def post(self, channel: str, message: Message, *, key: str | None = None) -> str:
        await asyncio.sleep(0.01)
        self.clock.now += SEND_TAKES
        return await super().post(channel, message)


def enqueue(fb, texts: list[str], now: datetime) -> None:
    with fb.engine.begin() as connection:
        for text in texts:
            message = Message(Destination(DestinationKind.TEAM_CHANNEL, team_id=1), (Text(text),))
            outbox.enqueue(
                connection,
                dedupe_key=f"test:{text}",
                destination={"platform": "slack", "channel": "C0BLUE"},
                payload={"op": "post", "message": encode_message(message)},
                now=now,
            )


def test_two_dispatchers_with_a_slow_notifier_send_each_message_once(database_url):
    first, second = make_app(database_url), make_app(database_url)
    enqueue(first, MESSAGES, START)
    clock = FrozenClock(START)
    slack = SlowRecording(clock)

    async def keep_dispatching() -> None:  # another replica, ticking while the first one is busy
        for _ in range(60):
            await asyncio.sleep(0.005)
            await dispatch(second.engine, {"slack": slack}, clock)

    async def both() -> None:
        await asyncio.gather(dispatch(first.engine, {"slack": slack}, clock), keep_dispatching())

    asyncio.run(both())
    sent = sorted(render_segments(message.segments) for _, message in slack.posts)
    assert sent == MESSAGES
    assert [(row.dedupe_key, row.status, row.attempts) for row in rows(first, OutboxMessage)] == [
        (f"test:{text}", "sent", 1) for text in MESSAGES
    ]
    first.close()
    second.close()


def test_a_sender_whose_claim_passed_to_another_neither_holds_nor_marks_it(database_url):
    fb = make_app(database_url)
    enqueue(fb, MESSAGES[:1], START)
    [stale] = outbox.claim(fb.engine, START)
    later = START + outbox.LEASE + timedelta(seconds=1)  # its lease ran out; another dispatcher claims it
    [taken] = outbox.claim(fb.engine, later)
    assert (stale.attempt, taken.attempt) == (1, 2)
    assert not outbox.hold(fb.engine, stale, later)  # the first sender must not send
    assert outbox.hold(fb.engine, taken, later + timedelta(seconds=90))  # the holder renews its lease
    assert outbox.claim(fb.engine, later + timedelta(seconds=150)) == []  # renewed: nobody else takes it
    assert not outbox.mark_sent(fb.engine, stale, later)
    assert outbox.mark_sent(fb.engine, taken, later)
    fb.close()
