"""The HTTP app: KPI webhook, leaderboard JSON and health; its OpenAPI spec is served at /docs."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from bot.web import boards, events, health
from bot.web.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER
from bot.web.schemas import EventBatch

if TYPE_CHECKING:
    from bot.app import Floorboard

DESCRIPTION = """KPI records in, fair points out.

Post batches of KPI records to `POST /api/v1/events` with a bearer token bound to your source, or sign
them with HMAC-SHA256. Each item is answered on its own: accepted, duplicate, parked or rejected with a
reason. Redeliveries are safe."""

SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "a token from FLOORBOARD_API_TOKENS"},
    "signature": {
        "type": "apiKey",
        "in": "header",
        "name": SIGNATURE_HEADER,
        "description": 'v1=<hex HMAC-SHA256 of "v1:{timestamp}:{body}" keyed by the token>',
    },
    "timestamp": {
        "type": "apiKey",
        "in": "header",
        "name": TIMESTAMP_HEADER,
        "description": "unix seconds; requests outside 5 minutes are refused",
    },
}


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_web_app(fb: Floorboard, *, lifespan: Lifespan | None = None) -> FastAPI:
    """Build the FastAPI app around a running Floorboard; nothing is global, so tests build many.

    `lifespan` runs work beside the server on its event loop (`floorboard run` starts the scheduler).
    """
    app = FastAPI(title="Floorboard", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.floorboard = fb
    for module in (events, boards, health):
        app.include_router(module.router(fb))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    _, documented = models_json_schema(
        [(EventBatch, "validation")], ref_template="#/components/schemas/{model}"
    )
    components = spec.setdefault("components", {})
    components.setdefault("schemas", {}).update(documented.get("$defs", {}))
    components["securitySchemes"] = SECURITY_SCHEMES
    app.openapi_schema = spec
    return spec
