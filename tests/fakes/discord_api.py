"""A fake Discord of ours: the REST API and a gateway websocket, on port 0, recording every call.

Every request body is validated against Discord's OpenAPI spec (../shared/specs/discord/openapi.json):
the operation is found by method and path template, its JSON (or a multipart `payload_json`) is checked
with jsonschema, $refs resolved within the spec. Message bodies are also held to what the schema cannot
say: no top-level key the operation does not know, and 6000 characters in all across a message's embeds.
An unknown route, a body that is not JSON or an invalid one is answered 400 and kept in `invalid`, which a
test asserts empty; so is a second acknowledgement of one interaction, refused as Discord does (40060).

Like Discord, a message posted with a nonce and `enforce_nonce` that repeats the nonce of a message the
same author posted in the same channel within `nonce_window` seconds is not created again: the answer is
the message already there.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from jsonschema import Draft202012Validator

SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "discord" / "openapi.json"
API = "/api/v10"
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
#: Operations that create a message (or answer an interaction): no top-level key outside the schema.
#: Edits are not held to it: discord.py sends `tts` with every edit, which Discord ignores there.
CREATE_OPERATIONS = frozenset(
    {
        ("POST", "/channels/{channel_id}/messages"),
        ("POST", "/webhooks/{webhook_id}/{webhook_token}"),
        ("POST", CALLBACK),
    }
)
#: Operations whose body is a message: 6000 characters at most across its embeds.
MESSAGE_OPERATIONS = CREATE_OPERATIONS | {
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
}
EMBED_TOTAL = 6000
INVALID_FORM_BODY = 50035
ALREADY_ACKNOWLEDGED = 40060
NONCE_WINDOW_SECONDS = 300.0
APPLICATION_ID = "1100000000000000001"
BOT_USER_ID = "1100000000000000002"
TIMESTAMP = "2021-04-01T12:00:00.000000+00:00"


@cache
def _spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text(encoding="utf-8"))


@cache
def _operations() -> list[tuple[re.Pattern[str], str, str]]:
    """(path regex, method, path template) for every operation of the spec."""
    found = []
    for template, item in _spec()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
        for method in item:
            if method in ("get", "put", "post", "patch", "delete"):
                found.append((pattern, method.upper(), template))
    # Literal segments win over parameters (/users/@me before /users/{user_id}).
    found.sort(key=lambda entry: entry[2].count("{"))
    return found


@cache
def _validator(template: str, method: str, content_type: str) -> Draft202012Validator | None:
    body = _spec()["paths"][template][method.lower()].get("requestBody")
    if body is None:
        return None
    schema = body["content"].get(content_type) or body["content"].get("application/json")
    if schema is None:
        return None
    root = {**schema["schema"], "components": _spec()["components"]}
    return Draft202012Validator(root)


@cache
def _known_keys(template: str, method: str) -> frozenset[str]:
    """The top-level properties the operation's JSON body schema names, through $ref, allOf and anyOf."""
    body = _spec()["paths"][template][method.lower()]["requestBody"]
    return frozenset(_properties(body["content"]["application/json"]["schema"]))


def _properties(schema: dict[str, Any]) -> set[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _properties(_spec()["components"]["schemas"][name])
    found = set(schema.get("properties", {}))
    for combined in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(combined, []):
            found |= _properties(part)
    return found


def embed_characters(embeds: list[dict[str, Any]]) -> int:
    """What Discord counts toward a message's 6000: titles, descriptions, field names and values,
    footer texts and author names, over every embed of the message."""
    total = 0
    for embed in embeds:
        total += len(embed.get("title") or "") + len(embed.get("description") or "")
        total += len((embed.get("footer") or {}).get("text") or "")
        total += len((embed.get("author") or {}).get("name") or "")
        total += sum(len(f.get("name") or "") + len(f.get("value") or "") for f in embed.get("fields") or [])
    return total


def _message_errors(template: str, method: str, body: Any) -> list[str]:
    """What the schema cannot say about a message body (or a callback's message): a top-level key a
    create operation does not know, more than 6000 characters across the embeds."""
    if not isinstance(body, dict):
        return []
    errors = []
    if (method, template) in CREATE_OPERATIONS:
        unknown = sorted(set(body) - _known_keys(template, method))
        errors += [f"{key}: not a field of {method} {template}" for key in unknown]
    message = body.get("data") if template == CALLBACK else body
    size = embed_characters(message.get("embeds") or []) if isinstance(message, dict) else 0
    if size > EMBED_TOTAL:
        errors.append(f"embeds: {size} characters in all, Discord allows {EMBED_TOTAL}")
    return errors


@dataclass
class Call:
    method: str
    path: str
    template: str
    query: dict[str, str]
    body: Any
    files: dict[str, bytes] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    status: int = 200
    code: int | None = None  # Discord's JSON error code when refused (50035, 40060)
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    """Answer the next matching calls with these statuses; "drop" processes the call, then hangs up;
    "ok" answers it as usual (to fail the calls after it)."""

    pattern: re.Pattern[str]
    outcomes: list[int | str]


class FakeDiscord:
    """REST at `api_url`, gateway at `gateway_url`; `calls` holds every REST call in order."""

    def __init__(self, guild_ids: tuple[str, ...] = ("1200000000000000001",)) -> None:
        self.guild_ids = guild_ids
        self.calls: list[Call] = []
        self.invalid: list[Call] = []
        self.identify: list[dict[str, Any]] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.dm_channels: dict[str, str] = {}  # user id → DM channel id
        self.failures: list[Failure] = []
        self.acknowledged: set[str] = set()  # interaction ids answered by a callback
        self.nonce_window = NONCE_WINDOW_SECONDS
        self.clock: Callable[[], float] = time.monotonic
        self._nonces: dict[tuple[str, str, str], tuple[float, dict[str, Any]]] = {}
        self._ids = itertools.count(1300000000000000001)
        self._sequence = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()
        self.base = ""

    @property
    def api_url(self) -> str:
        return self.base + API

    @property
    def gateway_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/gateway"

    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(self, path_regex: str, *outcomes: int | str) -> None:
        self.failures.append(Failure(re.compile(path_regex), list(outcomes)))

    def dms(self, user_id: str) -> list[dict[str, Any]]:
        """The messages sent to a user's DM channel, oldest first."""
        channel = self.dm_channels.get(user_id)
        return list(self.messages.get(channel, [])) if channel else []

    def calls_to(self, template: str, method: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.template == template and (method is None or c.method == method)]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        async def satisfied() -> None:
            async with self._changed:
                await self._changed.wait_for(condition)

        await asyncio.wait_for(satisfied(), timeout)

    # Gateway

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        for socket in self._sockets:
            if not socket.closed:  # a client that stopped; the next one has its own socket
                await socket.send_json({"op": 0, "t": event, "s": next(self._sequence), "d": data})

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": 45000}})
        async for frame in socket:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            if payload["op"] == 1:
                await socket.send_json({"op": 11})
            elif payload["op"] == 2:
                await self.dispatch("READY", self._ready())
                for guild_id in self.guild_ids:
                    await self.dispatch("GUILD_CREATE", guild(guild_id))
                async with self._changed:
                    self.identify.append(payload["d"])
                    self._changed.notify_all()
        return socket

    def _ready(self) -> dict[str, Any]:
        return {
            "v": 10,
            "user": bot_user(),
            "guilds": [{"id": guild_id, "unavailable": True} for guild_id in self.guild_ids],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": APPLICATION_ID, "flags": 0},
            "shard": [0, 1],
        }

    # REST

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        template = next((t for p, m, t in _operations() if m == request.method and p.match(path)), "")
        body, files, content_type, unreadable = await _read_body(request)
        call = Call(request.method, path, template, dict(request.query), body, files)
        if unreadable:
            call.errors.append(unreadable)
        elif not template:
            call.errors.append(f"{request.method} {path} is not an operation of Discord's API")
        else:
            validator = _validator(template, request.method, content_type)
            if validator is not None:
                call.errors.extend(
                    f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
                    for error in validator.iter_errors(body)
                )
                if (request.method, template) in MESSAGE_OPERATIONS:
                    call.errors.extend(_message_errors(template, request.method, body))
        if template == CALLBACK and not call.errors and path.split("/")[2] in self.acknowledged:
            call.errors.append("Interaction has already been acknowledged.")
            call.code = ALREADY_ACKNOWLEDGED
        outcome = None if call.errors else self._failure(request.method, path)
        call.status = 400 if call.errors else (outcome if isinstance(outcome, int) else 200)
        if call.errors and call.code is None:
            call.code = INVALID_FORM_BODY
        await self._record(call)
        if call.errors:
            self.invalid.append(call)
            return _json({"code": call.code, "message": call.errors[0], "errors": {}}, status=400)
        if isinstance(outcome, int):
            headers = {"Via": "1.1 google", "Retry-After": "0.05"} if outcome == 429 else {}
            data = {"message": "You are being rate limited.", "retry_after": 0.05, "global": False}
            return _json(data if outcome == 429 else {"message": "fail"}, status=outcome, headers=headers)
        author = request.headers.get("Authorization", "")
        response = self._answer(request.method, template, path, body, author)
        if outcome == "drop":
            # The call took effect but the answer never arrives, as when a connection breaks.
            assert request.transport is not None
            request.transport.close()
            raise asyncio.CancelledError
        if response is None:
            return web.Response(status=204)
        return _json(response)

    def _failure(self, method: str, path: str) -> int | str | None:
        for failure in self.failures:
            if failure.outcomes and failure.pattern.search(f"{method} {path}"):
                return failure.outcomes.pop(0)
        return None

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _answer(self, method: str, template: str, path: str, body: Any, author: str) -> Any:
        parts = path.strip("/").split("/")
        if template == "/users/@me":
            return bot_user()
        if template == "/oauth2/applications/@me":
            return application()
        if template in ("/gateway", "/gateway/bot"):
            limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
            return {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}
        if template.endswith("/commands") and method == "PUT":
            scope = parts[3] if "guilds" in parts else "global"
            stored = [self._command(command, None if scope == "global" else scope) for command in body or []]
            self.commands[scope] = stored
            return stored
        if template == CALLBACK:
            self.acknowledged.add(parts[1])
            return self._callback(parts[1], body)
        if template == "/users/@me/channels":
            # Discord keeps one DM channel per user: opening it again answers the same channel.
            recipient = str(body["recipient_id"])
            channel_id = self.dm_channels.setdefault(recipient, str(next(self._ids)))
            return {"id": channel_id, "type": 1, "recipients": [user(recipient)]}
        if template == "/channels/{channel_id}/messages" and method == "POST":
            return self._post(parts[1], body, author)
        if template.startswith("/webhooks/{webhook_id}/{webhook_token}"):
            channel = "webhook:" + parts[2]
            if template.endswith("@original") and method == "PATCH":
                return self._edit(channel, "original", body)
            if template.endswith("{message_id}") and method == "PATCH":
                return self._edit(channel, parts[-1], body)
            if method == "POST":
                return self._post(channel, body, author)
        return None

    def _command(self, command: dict[str, Any], guild_id: str | None) -> dict[str, Any]:
        stored = {
            "id": str(next(self._ids)),
            "application_id": APPLICATION_ID,
            "version": "1",
            "type": 1,
            "default_member_permissions": None,
            **command,
        }
        if guild_id is not None:
            stored["guild_id"] = guild_id
        return stored

    def _callback(self, interaction_id: str, body: Any) -> dict[str, Any]:
        flags = (body.get("data") or {}).get("flags", 0)
        return {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_loading": body.get("type") == 5,
                "response_message_ephemeral": bool(flags & 64),
            }
        }

    def _post(self, channel: str, body: dict[str, Any], author: str) -> dict[str, Any]:
        stored = self.messages.setdefault(channel, [])
        nonce = body.get("nonce")
        key = (author, channel, str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            created = self._nonces.get(key)
            if created is not None and self.clock() - created[0] < self.nonce_window:
                return created[1]  # Discord answers a repeated nonce with the message it already created
        message = message_object(str(next(self._ids)), channel, body)
        stored.append(message)
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[key] = (self.clock(), message)
        return message

    def _edit(self, channel: str, message_id: str, body: dict[str, Any]) -> dict[str, Any]:
        stored = self.messages.setdefault(channel, [])
        for message in stored:
            if message["id"] == message_id or (message_id == "original" and message.get("original")):
                message.update(body)
                return message
        message = message_object(str(next(self._ids)), channel, body)
        message["original"] = message_id == "original"
        stored.append(message)
        return message


async def _read_body(request: web.Request) -> tuple[Any, dict[str, bytes], str, str | None]:
    """The body, its files, the content type to validate against, and why it could not be read."""
    content_type = request.content_type
    if not request.body_exists:
        return None, {}, content_type, None
    if content_type == "multipart/form-data":
        body: Any = {}
        files: dict[str, bytes] = {}
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, aiohttp.BodyPartReader):
                continue
            data = await part.read()
            if part.name == "payload_json":
                try:
                    body = json.loads(data)
                except ValueError as error:
                    return None, files, "application/json", f"payload_json is not JSON: {error}"
            elif part.name is not None:
                files[part.name] = bytes(data)
        # The spec describes multipart bodies by the JSON fields; payload_json carries them.
        return body, files, "application/json", None
    raw = await request.read()
    try:
        return (json.loads(raw) if raw else None), {}, content_type, None
    except ValueError as error:
        return raw, {}, content_type, f"the body is not JSON ({content_type}): {error}"


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py decodes a body as JSON only when Content-Type is exactly application/json.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def user(user_id: str, name: str = "user") -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "avatar": None, "global_name": name}


def application() -> dict[str, Any]:
    return {
        "id": APPLICATION_ID,
        "name": "Floorboard",
        "description": "",
        "icon": None,
        "bot_public": False,
        "bot_require_code_grant": False,
        "owner": user("1", "owner"),
        "verify_key": "0" * 64,
        "flags": 0,
        "interactions_endpoint_url": None,
    }


def bot_user() -> dict[str, Any]:
    return {**user(BOT_USER_ID, "floorboard"), "bot": True}


def guild(guild_id: str) -> dict[str, Any]:
    return {
        "id": guild_id,
        "name": "Contact center",
        "owner_id": "1",
        "roles": [],
        "channels": [],
        "members": [],
        "member_count": 1,
        "emojis": [],
        "stickers": [],
        "features": [],
        "threads": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "voice_states": [],
        "presences": [],
        "unavailable": False,
        "large": False,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "system_channel_flags": 0,
        "joined_at": TIMESTAMP,
    }


def message_object(message_id: str, channel: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": message_id,
        "channel_id": channel.split(":")[-1] if channel[:1].isdigit() else "1400000000000000001",
        "type": 0,
        "content": body.get("content") or "",
        "author": bot_user(),
        "attachments": [],
        "embeds": body.get("embeds") or [],
        "components": body.get("components") or [],
        "mentions": [],
        "mention_roles": [],
        "mention_everyone": False,
        "pinned": False,
        "tts": False,
        "timestamp": TIMESTAMP,
        "edited_timestamp": None,
        "flags": body.get("flags", 0),
        "nonce": body.get("nonce"),
        "allowed_mentions": body.get("allowed_mentions"),
    }


CHANNEL_ID = "1400000000000000001"
_interaction_ids = itertools.count(1500000000000000001)


def member(user_id: str, name: str, roles: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "user": user(user_id, name),
        "roles": list(roles),
        "joined_at": TIMESTAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "permissions": "2147483647",
    }


def interaction(
    kind: int,
    data: dict[str, Any],
    *,
    user_id: str,
    name: str,
    guild_id: str | None,
    roles: tuple[str, ...] = (),
    message: dict[str, Any] | None = None,
    channel_id: str = CHANNEL_ID,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload as Discord sends it from a guild text channel, or from a direct
    message when `guild_id` is None (a `user` instead of a `member`, no guild, no roles)."""
    interaction_id = str(next(_interaction_ids))
    payload: dict[str, Any] = {
        "id": interaction_id,
        "application_id": APPLICATION_ID,
        "type": kind,
        "data": data,
        "channel_id": channel_id,
        "token": f"token-{interaction_id}",
        "version": 1,
        "locale": "en-US",
        "app_permissions": "2147483647",
        "entitlements": [],
        "attachment_size_limit": 10485760,
    }
    if guild_id is None:
        payload |= {
            "channel": {"id": channel_id, "type": 1, "last_message_id": None, "flags": 0, "recipients": []},
            "user": user(user_id, name),
            "authorizing_integration_owners": {"0": "1"},
            "context": 1,
        }
    else:
        payload |= {
            "guild_id": guild_id,
            "channel": _guild_channel(channel_id, guild_id),
            "member": member(user_id, name, roles),
            "guild_locale": "en-US",
            "authorizing_integration_owners": {"0": guild_id},
            "context": 0,
        }
    if message is not None:
        payload["message"] = message
    return payload


def _guild_channel(channel_id: str, guild_id: str) -> dict[str, Any]:
    return {
        "id": channel_id,
        "type": 0,
        "name": "floor",
        "guild_id": guild_id,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def command_data(
    name: str, options: list[dict[str, Any]], users: dict[str, str] | None = None, guild_id: str | None = None
) -> dict[str, Any]:
    """APPLICATION_COMMAND data; `users` (id → name) fills `resolved` for user options; `guild_id` is
    set for a command registered in that guild (development sync)."""
    data: dict[str, Any] = {"id": "1600000000000000001", "name": name, "type": 1, "options": options}
    if guild_id is not None:
        data["guild_id"] = guild_id
    if users:
        data["resolved"] = {
            "users": {uid: user(uid, uname) for uid, uname in users.items()},
            "members": {
                uid: {k: v for k, v in member(uid, uname).items() if k != "user"}
                for uid, uname in users.items()
            },
        }
    return data
