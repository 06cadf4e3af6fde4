"""The outbox dispatcher: claim due messages, send each through the Notifier of its platform, mark it.

Notifiers are passed in as a mapping platform → Notifier (console always; Slack and Discord when
configured), so a platform's adapter plugs in without the dispatcher knowing it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from bot.clock import Clock
from bot.handlers.contract import Notifier
from bot.jobs.codec import decode_bytes, decode_message
from bot.services import outbox

log = logging.getLogger(__name__)


@dataclass
class Dispatched:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    lost: int = 0


class NotSendable(RuntimeError):
    """The message cannot be sent as addressed (no notifier for its platform, an unknown operation)."""


async def dispatch(
    engine: Engine,
    notifiers: Mapping[str, Notifier],
    clock: Clock,
    *,
    limit: int = 20,
    max_attempts: int = outbox.MAX_ATTEMPTS,
) -> Dispatched:
    """Send up to `limit` messages that are due now, one at a time: claim one, renew its lease and check
    it is still ours right before sending, write the outcome, then claim the next. Each send so starts
    under a fresh lease, however long the ones before it took, and a sender that lost its claim to
    another dispatcher does not send.

    Database calls run on a worker thread: the dispatcher shares its event loop with the web server and
    the chat adapters, which must keep acknowledging while the database is slow.
    """
    result = Dispatched()
    for _ in range(limit):
        claimed = await asyncio.to_thread(outbox.claim, engine, clock(), limit=1)
        if not claimed:
            break
        item = claimed[0]
        if not await asyncio.to_thread(outbox.hold, engine, item, clock()):
            result.lost += 1
            log.warning("did not send %s: its claim passed to another dispatcher", item.dedupe_key)
            continue
        try:
            sent_id = await _send(item, notifiers)
        except Exception as error:  # a platform error of any kind is recorded and retried
            reason = f"{type(error).__name__}: {error}"
            status = await asyncio.to_thread(
                outbox.mark_failed, engine, item, clock(), reason, max_attempts=max_attempts
            )
            if status == "failed":
                result.failed += 1
            else:
                result.retrying += 1
            continue
        if await asyncio.to_thread(outbox.mark_sent, engine, item, clock()):
            result.sent += 1
            log.info("sent %s as %s", item.dedupe_key, sent_id)
        else:
            result.lost += 1
            log.warning("sent %s, but its lease had run out and another dispatcher holds it", item.dedupe_key)
    return result


async def _send(item: outbox.Claimed, notifiers: Mapping[str, Notifier]) -> str:
    platform = str(item.destination.get("platform"))
    notifier = notifiers.get(platform)
    if notifier is None:
        raise NotSendable(f"no notifier for platform {platform!r}; configured: {sorted(notifiers) or 'none'}")
    payload: dict[str, Any] = item.payload
    operation = payload.get("op")
    if operation == "post":
        return await notifier.post(
            str(item.destination["channel"]), decode_message(payload["message"]), key=item.dedupe_key
        )
    if operation == "dm":
        return await notifier.dm(
            int(item.destination["person_id"]), decode_message(payload["message"]), key=item.dedupe_key
        )
    if operation == "upload":
        return await notifier.upload(
            str(item.destination["channel"]),
            str(payload["filename"]),
            decode_bytes(payload["data"]),
            str(payload["title"]),
            key=item.dedupe_key,
        )
    raise NotSendable(f"unknown outbox operation {operation!r}")
