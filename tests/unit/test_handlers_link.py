"""`/link`: a chat account asks to become a person by agent key; a supervisor of their team decides."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bot.handlers.access import actor_for, unlinked_actor
from bot.handlers.commands import default_registry
from bot.handlers.context import HandlerContext
from bot.handlers.contract import Command, DestinationKind
from bot.handlers.dispatch import dispatch
from bot.services import links, people
from bot.store.models import AuditEntry, LinkRequest
from tests.conftest import make_app
from tests.slack_support import seed_roster


@pytest.fixture
def world(database_url):
    fb = make_app(database_url)
    seed_roster(fb)
    yield fb
    fb.close()


def run(fb, actor, decision=None, key="pwc:Greg"):
    args = {"decision": decision, "key": key}
    command = Command("link", actor, args, uuid.uuid4().hex)
    return dispatch(default_registry(), command, HandlerContext.of(fb))


def person(fb, name):
    with fb.engine.connect() as connection:
        found = people.by_display_name(connection, name)
        return actor_for(connection, found, platform="slack", platform_user_id=f"T1/{name[:3].upper()}")


def words(replies):
    return " ".join(
        segment.text for reply in replies for segment in reply.segments if hasattr(segment, "text")
    )


def test_request_then_approval_links_the_account_and_audits_it(world):
    stranger = unlinked_actor("greg.o", platform="slack", platform_user_id="T1/U5")
    asked = run(world, stranger)
    assert "request #1" in words(asked[:1])
    supervisors = [reply for reply in asked if reply.destination.kind is DestinationKind.DM]
    sue = person(world, "Sue Boss")
    assert [reply.destination.person_id for reply in supervisors] == [sue.person_id]
    assert [action.args for action in supervisors[0].actions] == [
        {"decision": "approve", "key": "1"},
        {"decision": "deny", "key": "1"},
    ]
    approved = run(world, sue, "approve", "1")
    assert "now linked to Greg Ory" in words(approved)
    assert "already approved" in words(run(world, sue, "approve", "1"))
    with world.engine.connect() as connection:
        linked = links.person_of(connection, links.Account("slack", "T1", "U5"))
        audit = connection.execute(select(AuditEntry.action, AuditEntry.target)).all()
    assert linked is not None and linked.display_name == "Greg Ory"
    assert ("link.approved", f"person:{linked.id}") in audit


def test_agents_and_other_teams_supervisors_cannot_decide(world):
    stranger = unlinked_actor("greg.o", platform="slack", platform_user_id="T1/U5")
    run(world, stranger)
    assert "Only supervisors" in words(run(world, person(world, "Martha Jones"), "approve", "1"))
    admin = person(world, "Ann Admin")
    assert "Denied request #1" in words(run(world, admin, "deny", "1"))
    again = run(world, stranger)  # asking again re-opens a denied request
    assert "request #1" in words(again[:1])
    with world.engine.connect() as connection:
        assert connection.scalar(select(LinkRequest.status)) == "pending"


def test_unknown_keys_and_linked_callers_are_refused_with_nothing_written(world):
    stranger = unlinked_actor("x", platform="slack", platform_user_id="T1/U5")
    assert "No one on the roster has the agent key pwc:Nobody" in words(
        run(world, stranger, key="pwc:Nobody")
    )
    assert "already linked to Martha Jones" in words(run(world, person(world, "Martha Jones")))
    console = unlinked_actor("x", platform="console", platform_user_id="x")
    assert "needs a console account" in words(run(world, console))
    with world.engine.connect() as connection:
        assert connection.scalar(select(LinkRequest.id)) is None
