"""`POST /api/v1/events`: KPI records over HTTP, through the same ingest as file imports."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from bot.feeds.records import KpiRecord, RowReject
from bot.web.auth import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Unauthorized,
    bearer_source,
    signature_source,
    uses_signature,
)
from bot.web.schemas import BatchCounts, BatchResult, ItemResult, Problem, parse_item

if TYPE_CHECKING:
    from bot.app import Floorboard

ENVELOPE_KEYS = frozenset({"records", "create_unknown_agents"})


def router(fb: Floorboard) -> APIRouter:
    api = APIRouter(tags=["feeds"])

    @api.post(
        "/api/v1/events",
        status_code=202,
        response_model=BatchResult,
        summary="Post a batch of KPI records",
        responses={
            401: {"model": Problem, "description": "no, unknown or expired credentials"},
            413: {"model": Problem, "description": "body over max_body_bytes or over max_batch_records"},
            422: {"model": Problem, "description": "the body is not a batch envelope"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventBatch"}}},
            },
            "security": [{"bearer": []}, {"signature": [], "timestamp": []}],
        },
    )
    async def post_events(request: Request) -> BatchResult:
        """Store each record once per (source, external_id, version), score it, and report every item.

        Authenticate with `Authorization: Bearer <token>`, or sign: `X-Floorboard-Signature:
        v1=<hex HMAC-SHA256 of "v1:{timestamp}:{body}" keyed by the token>` with `X-Floorboard-Timestamp`
        (unix seconds, within 5 minutes). A token is bound to one source; records for another source are
        rejected. Redelivering a batch is safe: every item comes back `duplicate`.
        """
        signed = uses_signature(request.headers)
        tokens = fb.settings.api_tokens
        try:
            source = "" if signed else bearer_source(request.headers.get("authorization"), tokens)
            body = await _read_limited(request, fb.settings.max_body_bytes)
            if signed:
                source = signature_source(
                    request.headers.get(SIGNATURE_HEADER),
                    request.headers.get(TIMESTAMP_HEADER),
                    body,
                    tokens,
                    fb.clock(),
                )
        except Unauthorized as error:
            raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from None
        return await run_in_threadpool(accept_batch, fb, source, body)

    return api


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(f"the body is {declared} bytes; the limit is {limit} (send smaller batches)")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _too_large(f"the body exceeds the limit of {limit} bytes (send smaller batches)")
    return bytes(body)


def accept_batch(fb: Floorboard, source: str, body: bytes) -> BatchResult:
    """Validate the envelope, then each item alone; ingest the batch and report every item."""
    raw_items, create = _envelope(body, fb.settings.max_batch_records)
    items = [_item(raw, index, source) for index, raw in enumerate(raw_items)]
    if create is None:
        create = fb.program.identity.create_unknown_agents
    batch_id, counts, outcomes = fb.ingest([items], source=source, origin="webhook", create_unknown=create)
    results = [
        ItemResult(index=index, external_id=_external_id(raw), status=outcome.status, reason=outcome.reason)
        for index, (raw, outcome) in enumerate(zip(raw_items, outcomes, strict=True))
    ]
    return BatchResult(
        batch_id=batch_id,
        counts=BatchCounts(
            received=counts.read,
            accepted=counts.imported,
            duplicate=counts.duplicate,
            parked=counts.parked,
            rejected=counts.rejected,
        ),
        items=results,
    )


def _envelope(body: bytes, max_records: int) -> tuple[list[Any], bool | None]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise _invalid(f'the body is not JSON ({error}); send {{"records": [...]}}') from None
    if not isinstance(data, dict):
        raise _invalid(f'the body must be a JSON object {{"records": [...]}}, got a {type(data).__name__}')
    if "records" not in data:
        raise _invalid('the body has no "records" list')
    records, create = data["records"], data.get("create_unknown_agents")
    if not isinstance(records, list):
        raise _invalid(f'"records" must be a list, got a {type(records).__name__}')
    unknown = sorted(set(data) - ENVELOPE_KEYS)
    if unknown:
        raise _invalid(f"unknown top-level field(s) {unknown}; allowed: {sorted(ENVELOPE_KEYS)}")
    if create is not None and not isinstance(create, bool):
        raise _invalid('"create_unknown_agents" must be true or false')
    if len(records) > max_records:
        raise _too_large(f"{len(records)} records; a batch holds at most {max_records}")
    return records, create


def _item(raw: Any, index: int, source: str) -> KpiRecord | RowReject:
    try:
        record = parse_item(raw).to_record()
    except ValueError as error:
        return RowReject(index + 1, str(error))
    if record.source != source:
        return RowReject(index + 1, f"source: {record.source!r} is not the source of this token ({source!r})")
    return record


def _external_id(raw: Any) -> str | None:
    value = raw.get("external_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _invalid(detail: str) -> HTTPException:
    return HTTPException(422, detail)


def _too_large(detail: str) -> HTTPException:
    return HTTPException(413, detail)
