"""A fake Slack Web API of ours: aiohttp on port 0 in a thread, recording every call it gets.

It answers the Web API methods Floorboard uses (`/api/<method>`), response_url posts (`/respond/<id>`),
files_upload_v2's upload URL (`/upload/<file id>`) and a Socket Mode websocket (`/ws`), whose envelopes
a test pushes with `send_envelope` and whose acknowledgements it reads back in `acks`.

Like Slack, it takes a response_url at most RESPONSE_URL_USES (5) times: Slack documents "a response_url
five times within 30 minutes" and is authoritative about it, without documenting the refusal's body; the
fake answers later posts with HTTP 404 and `used_url`, the plain-string style of Slack's webhook errors,
and records them as `respond_refused`. `fail` scripts errors, `ratelimited` with HTTP 429 and Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

RESPONSE_URL_USES = 5
BROADCASTS = ("<!channel", "<!here", "<!everyone", "@here", "@channel", "@everyone", "<!subteam")


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    raw: str
    at: float = field(default_factory=time.monotonic)


@dataclass
class Person:
    email: str | None
    name: str
    bot: bool = False


@dataclass
class Failure:
    """The calls of `method` after the first `after` fail, `times` of them, with `error`."""

    method: str
    error: str
    after: int = 0
    times: int = 1
    retry_after: int | None = None
    seen: int = 0


class FakeSlack:
    """`with FakeSlack() as slack:` serves on `slack.api_url`; `slack.calls` lists what it received."""

    def __init__(self, team: str = "T1") -> None:
        self.team = team
        self.users: dict[str, Person] = {}
        self.groups: dict[str, list[str]] = {}
        self.calls: list[Call] = []
        self.acks: list[dict[str, Any]] = []
        self.uploads: dict[str, bytes] = {}
        self.errors: dict[str, str] = {}  # method -> the Slack error it answers with, every time
        self.failures: list[Failure] = []
        self.response_uses: dict[str, int] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._sockets: list[web.WebSocketResponse] = []
        self._counter = 0
        self.url = ""

    # --- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> FakeSlack:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/respond/{name}"

    # --- what was received -----------------------------------------------------------------------
    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, check: Callable[[], Any], timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"timed out; calls so far: {[c.method for c in self.calls]}")

    def wait_calls(self, method: str, count: int = 1, timeout: float = 20.0) -> list[Call]:
        return self.wait_for(lambda: self.of(method) if len(self.of(method)) >= count else None, timeout)

    def fail(
        self, method: str, error: str, *, after: int = 0, times: int = 1, retry_after: int | None = None
    ) -> None:
        """Answer `times` calls of `method`, after the next `after` ones, with `error` (`ratelimited`:
        HTTP 429 with a Retry-After of `retry_after` seconds, as Slack does)."""
        with self._lock:
            self.failures.append(Failure(method, error, after, times, retry_after))

    def everything(self) -> str:
        with self._lock:
            return "\n".join(call.raw for call in self.calls)

    # --- Socket Mode -----------------------------------------------------------------------------
    def send_envelope(self, envelope: dict[str, Any]) -> None:
        async def send() -> None:
            for socket in self._sockets:
                await socket.send_str(json.dumps(envelope))

        asyncio.run_coroutine_threadsafe(send(), self._loop).result(10)

    def connected(self) -> bool:
        return bool(self._sockets)

    # --- the server ------------------------------------------------------------------------------
    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_post("/upload/{file}", self._upload)
        app.router.add_get("/ws", self._ws)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    def _record(self, method: str, args: dict[str, Any], raw: str) -> None:
        with self._lock:
            self.calls.append(Call(method, args, raw))
            self._counter += 1

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        args: dict[str, Any] = dict(request.query)
        if raw:
            if request.content_type == "application/json":
                args.update(json.loads(raw))
            else:
                args.update(parse_qsl(raw))
        self._record(method, args, raw)
        if method in self.errors:
            return web.json_response({"ok": False, "error": self.errors[method]})
        failure = self._scripted(method)
        if failure is not None:
            if failure.error == "ratelimited":
                headers = {"Retry-After": str(failure.retry_after or 60)}
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
            return web.json_response({"ok": False, "error": failure.error})
        return web.json_response(self._answer(method, args))

    def _scripted(self, method: str) -> Failure | None:
        with self._lock:
            for failure in self.failures:
                if failure.method != method or failure.seen >= failure.after + failure.times:
                    continue
                failure.seen += 1
                if failure.seen > failure.after:
                    return failure
        return None

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        number = self._counter
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": self.team, "team": "Floor"}
        if method == "users.info":
            person = self.users.get(args.get("user", ""))
            if person is None:
                return {"ok": False, "error": "user_not_found"}
            profile = {"display_name": person.name, "real_name": person.name}
            if person.email:
                profile["email"] = person.email
            user = {"id": args["user"], "name": person.name, "is_bot": person.bot, "profile": profile}
            if person.bot:
                profile["bot_id"] = f"B{args['user']}"
            return {"ok": True, "user": user}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.groups.get(args.get("usergroup", ""), [])}
        if method == "chat.postMessage":
            return {"ok": True, "channel": args.get("channel"), "ts": f"1617278400.{number:06d}"}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1617278400.{number:06d}"}
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": f"V{number:05d}"}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{args.get('users', 'X')}"}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{number:05d}"
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            listed = json.loads(files) if isinstance(files, str) else files or []
            return {"ok": True, "files": [{"id": item["id"], "title": item.get("title")} for item in listed]}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"{self.url.replace('http', 'ws')}/ws"}
        return {"ok": True}

    async def _respond(self, request: web.Request) -> web.Response:
        raw = await request.text()
        body = json.loads(raw) if raw else {}
        name = request.match_info["name"]
        body["_response_url"] = name
        with self._lock:
            self.response_uses[name] = self.response_uses.get(name, 0) + 1
            used_up = self.response_uses[name] > RESPONSE_URL_USES
        if used_up:
            self._record("respond_refused", body, raw)
            return web.Response(status=404, text="used_url")
        self._record("respond", body, raw)
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        self.uploads[request.match_info["file"]] = data
        self._record("upload", {"file": request.match_info["file"], "size": len(data)}, "")
        return web.Response(text="OK - 200")

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                with self._lock:
                    self.acks.append(json.loads(message.data))
        self._sockets.remove(socket)
        return socket
