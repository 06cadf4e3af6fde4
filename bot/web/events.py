"""`POST /api/v1/events`: KPI records over HTTP, through the same ingest as file imports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, select

from bot.feeds.records import KpiRecord, RowReject
from bot.store.models import Identity, KpiRecordRow, table_of
from bot.store.models import Subject as SubjectRow
from bot.web.auth import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Unauthorized,
    bearer_source,
    signature_source,
    uses_signature,
)
from bot.web.schemas import BatchCounts, BatchResult, EventRecord, ItemResult, Problem, Subject, parse_item

if TYPE_CHECKING:
    from bot.app import Floorboard

ENVELOPE_KEYS = frozenset({"records", "create_unknown_agents"})
_LOOKUP_CHUNK = 1000


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
    """Validate the envelope, then each item alone; ingest the batch and report every item.

    An empty batch stores nothing, not even an import batch: it is answered with `batch_id: null`.
    """
    raw_items, create = _envelope(body, fb.settings.max_batch_records)
    if not raw_items:
        empty = BatchCounts(received=0, accepted=0, duplicate=0, parked=0, rejected=0)
        return BatchResult(batch_id=None, counts=empty, items=[])
    parsed = [_item(raw, index, source) for index, raw in enumerate(raw_items)]
    items = _complete_voids(fb.engine, source, parsed)
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


def _item(raw: Any, index: int, source: str) -> KpiRecord | RowReject | tuple[int, EventRecord]:
    """A record, a reject, or (line, void) for a void that still needs its subject or occurred_at."""
    try:
        item = parse_item(raw)
    except ValueError as error:
        return RowReject(index + 1, str(error))
    if item.source != source:
        return RowReject(index + 1, f"source: {item.source!r} is not the source of this token ({source!r})")
    if item.subject is None or item.occurred_at is None:
        return index + 1, item
    return item.to_record()


def _complete_voids(
    engine: Engine, source: str, items: list[KpiRecord | RowReject | tuple[int, EventRecord]]
) -> list[KpiRecord | RowReject]:
    """Give each void that left out `subject` or `occurred_at` those of the record it retracts: the last
    record with its id earlier in this batch (items apply in order), else the stored one."""
    wanted = sorted({item[1].external_id for item in items if isinstance(item, tuple)})
    stored = _stored_records(engine, source, wanted) if wanted else {}
    needed = set(wanted)
    out: list[KpiRecord | RowReject] = []
    for item in items:
        if not isinstance(item, tuple):
            out.append(item)
            if isinstance(item, KpiRecord) and item.external_id in needed:
                stored[item.external_id] = (
                    Subject(kind=item.subject.kind, key=item.subject.key, name=item.subject.display_name),
                    item.occurred_at,
                )
            continue
        line, void = item
        found = stored.get(void.external_id)
        if found is None:
            out.append(
                RowReject(
                    line,
                    f"nothing to void: no stored record for source {source!r}, "
                    f"external_id {void.external_id!r}; send subject and occurred_at to void it anyway",
                )
            )
            continue
        subject, occurred_at = found
        completed = void.model_copy(
            update={"subject": void.subject or subject, "occurred_at": void.occurred_at or occurred_at}
        )
        record = completed.to_record()
        stored[void.external_id] = (completed.subject or subject, record.occurred_at)
        out.append(record)
    return out


def _stored_records(
    engine: Engine, source: str, external_ids: list[str]
) -> dict[str, tuple[Subject, datetime]]:
    """external_id → (subject as the source names it, occurred_at) of its current stored record.

    An agent subject is named by the person's key in this source (an Identity of kind 'source'); a queue
    subject by its own key. Without a current version, the highest stored version speaks.
    """
    records = table_of(KpiRecordRow).c
    subjects = SubjectRow.__table__.c
    found: dict[str, tuple[Literal["agent", "queue"], str | None, int | None, datetime]] = {}
    with engine.connect() as connection:
        for start in range(0, len(external_ids), _LOOKUP_CHUNK):
            rows = connection.execute(
                select(
                    records.external_id, records.occurred_at, subjects.kind, subjects.key, subjects.person_id
                )
                .join(SubjectRow, subjects.id == records.subject_id)
                .where(
                    records.source == source,
                    records.external_id.in_(external_ids[start : start + _LOOKUP_CHUNK]),
                )
                .order_by(records.is_current, records.version)
            )
            for external_id, occurred_at, kind, key, person_id in rows:
                found[external_id] = (kind, key, person_id, occurred_at)  # the last row is the current one
        people = {person_id for _, _, person_id, _ in found.values() if person_id is not None}
        keys: dict[int, str] = {}
        if people:
            for person_id, key in connection.execute(
                select(Identity.person_id, Identity.key)
                .where(
                    Identity.kind == "source", Identity.namespace == source, Identity.person_id.in_(people)
                )
                .order_by(Identity.id.desc())
            ):
                keys[int(person_id)] = key  # the oldest key wins
    out: dict[str, tuple[Subject, datetime]] = {}
    for external_id, (kind, key, person_id, occurred_at) in found.items():
        subject_key = keys.get(person_id) if kind == "agent" and person_id is not None else key
        if subject_key is None:
            continue
        instant = occurred_at.replace(tzinfo=UTC) if occurred_at.tzinfo is None else occurred_at
        out[external_id] = (Subject(kind=kind, key=subject_key), instant)
    return out


def _external_id(raw: Any) -> str | None:
    value = raw.get("external_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _invalid(detail: str) -> HTTPException:
    return HTTPException(422, detail)


def _too_large(detail: str) -> HTTPException:
    return HTTPException(413, detail)
