"""Handlers' buttons on Discord, through the real client against our fake Discord on the PwC workbook:
`/link` approved from the supervisor's DM, redemptions approved from it, clicks as the presser with the
interaction id as delivery identity, and buttons that work after a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.store.models import Identity, LinkRequest, Person, Redemption
from tests.discord_support import (
    ANN,
    GREG,
    JIM,
    MARTHA,
    SAM,
    build_teams_db,
    copy_of,
    option,
    program_of,
    sub,
)
from tests.fakes.discord_harness import (
    EPHEMERAL,
    GUILD,
    Exchange,
    console_blocks,
    console_says,
    embed_text,
    numbers,
    private_bodies,
    running_client,
)

PRIMARY, SECONDARY, DANGER = 1, 2, 4


@pytest.fixture(scope="module")
def teams_db(tmp_path_factory) -> Path:
    return build_teams_db(tmp_path_factory.mktemp("discord-buttons"))


@pytest.fixture
def url(teams_db: Path, tmp_path: Path) -> str:
    return copy_of(teams_db, tmp_path)


def answer(exchange: Exchange) -> str:
    """The presser's private answer: the deferred response, edited."""
    [edit] = exchange.original
    return embed_text(edit.body)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [button for row in message["components"] for button in row["components"]]


async def test_link_request_is_approved_from_the_supervisors_dm(url):
    async with running_client(url, **program_of(url)) as harness:
        asked = await harness.command("floorboard", sub("link", option("key", "pwc:Greg")), user=GREG)
        [ask] = harness.fake.dms(SAM[0])  # Sam supervises east, Greg's team
        assert harness.fake.dms(ANN[0]) == []  # Ann supervises north only
        approve, deny = buttons(ask)
        by_agent = await harness.click(approve["custom_id"], ask, user=JIM)
        by_other_supervisor = await harness.click(approve["custom_id"], ask, user=ANN)
        before = await harness.command("me", [], user=GREG)
        approved = await harness.click(approve["custom_id"], ask, user=SAM)
        replayed = await harness.deliver_click(approved.payload)
        double = await harness.click(approve["custom_id"], ask, user=SAM)
        denied_late = await harness.click(deny["custom_id"], ask, user=SAM)
        after = await harness.command("me", [], user=GREG)
        told = harness.fake.dms(GREG[0])
        with harness.fb.engine.connect() as connection:
            identities = connection.execute(
                select(Identity.namespace, Identity.key, Person.display_name)
                .join(Person, Person.id == Identity.person_id)
                .where(Identity.kind == "discord", Identity.key == GREG[0])
            ).all()
            statuses = connection.scalars(select(LinkRequest.status)).all()
    [requested] = private_bodies(asked)
    assert "Asked to link your account to Greg (request #1)" in embed_text(requested)
    assert [c.body for c in asked.callbacks] == [{"type": 5, "data": {"flags": EPHEMERAL}}]
    assert "greg.discord asks to be linked to Greg with the agent key pwc:Greg (request #1)" in embed_text(
        ask
    )
    assert [(b["label"], b["style"]) for b in (approve, deny)] == [
        ("Approve", SECONDARY),
        ("Deny", SECONDARY),
    ]
    assert approve["custom_id"] == "fb:act:link:decision=approve,key=1"
    assert deny["custom_id"] == "fb:act:link:decision=deny,key=1"
    assert ask["allowed_mentions"]["parse"] == []
    # Every press is deferred privately first, then answered by editing that deferred response.
    for press in (by_agent, by_other_supervisor, approved, double, denied_late):
        assert [c.body for c in press.callbacks] == [{"type": 5, "data": {"flags": EPHEMERAL}}]
        assert press.calls[0] is press.callbacks[0]
    assert "Only supervisors" in answer(by_agent)
    assert "Ann Lee" not in answer(by_other_supervisor) and "Greg" in answer(by_other_supervisor)
    assert "not linked" in embed_text(private_bodies(before)[0])
    assert "now linked to Greg" in answer(approved)
    # The same interaction delivered again (a gateway replay) is not acknowledged a second time, which
    # Discord would refuse (40060): nothing is sent for it, and it applies nothing.
    assert replayed.calls == []
    assert "already approved" in answer(double)  # a second click: a new interaction, refused by state
    assert "already approved" in answer(denied_late)
    assert ["Your chat account is now linked to Greg." in embed_text(m) for m in told] == [True]
    assert identities == [(GUILD, GREG[0], "Greg")]
    assert statuses == ["approved"]
    assert "Greg" in private_bodies(after)[0]["embeds"][0]["title"]


async def test_an_agent_cannot_approve_by_typing_the_decision_either(url):
    async with running_client(url, **program_of(url)) as harness:
        await harness.command("floorboard", sub("link", option("key", "pwc:Greg")), user=GREG)
        typed = await harness.command(
            "floorboard", sub("link", option("decision", "approve"), option("key", "1")), user=MARTHA
        )
        unknown = await harness.command("floorboard", sub("link", option("key", "pwc:Nobody")), user=GREG)
        with harness.fb.engine.connect() as connection:
            linked = connection.scalar(select(Identity.id).where(Identity.key == GREG[0]))
    assert "Only supervisors" in embed_text(private_bodies(typed)[0])
    assert "No one on the roster has the agent key pwc:Nobody" in embed_text(private_bodies(unknown)[0])
    assert linked is None


async def test_a_redemption_is_approved_from_the_supervisors_dm_after_a_restart(url):
    async with running_client(url, **program_of(url)) as harness:
        console_before = console_says(harness, "/rewards", "Martha")
        redeemed = await harness.command("redeem", [{"name": "item", "type": 3, "value": "mug"}], user=MARTHA)
        [ask] = harness.fake.dms(SAM[0])
    approve, reject = buttons(ask)
    assert [(b["label"], b["style"]) for b in (approve, reject)] == [("Approve", PRIMARY), ("Reject", DANGER)]
    assert approve["custom_id"] == "fb:act:approve:id=1" and reject["custom_id"] == "fb:act:reject:id=1"
    shown = console_blocks(console_before, "[private to Martha]")
    [wallet_before] = [line for line in shown.splitlines() if line.startswith("Your wallet")]
    coins_before = float(numbers(wallet_before)[0])
    reserved = embed_text(private_bodies(redeemed)[0])
    assert f"Wallet: {coins_before - 5:.2f} coins." in reserved  # the console's wallet less the price
    assert f"<@{MARTHA[0]}> asked for Floorboard mug (5.00 coins), redemption #1." in embed_text(ask)
    async with running_client(url, **program_of(url)) as restarted:  # no view of the first process remains
        approved = await restarted.click(approve["custom_id"], ask, user=SAM)
        again = await restarted.click(reject["custom_id"], ask, user=SAM)
        told = restarted.fake.dms(MARTHA[0])
        with restarted.fb.engine.connect() as connection:
            status = connection.scalar(select(Redemption.status))
    assert "Redemption #1 (Floorboard mug) for" in answer(approved) and "is approved" in answer(approved)
    assert "already" in answer(again)
    assert status == "fulfilled"
    assert ["approved" in embed_text(m) for m in told] == [True]
