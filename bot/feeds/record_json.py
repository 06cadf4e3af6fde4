"""KpiRecord to and from plain JSON, for parked records and their replay."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.feeds.records import KpiRecord, SubjectRef


def record_to_json(record: KpiRecord) -> dict[str, Any]:
    return {
        "source": record.source,
        "external_id": record.external_id,
        "version": record.version,
        "subject": {
            "kind": record.subject.kind,
            "key": record.subject.key,
            "name": record.subject.display_name,
        },
        "occurred_at": record.occurred_at.isoformat(),
        "facts": record.facts,
        "metrics": {key: list(pair) for key, pair in record.metrics.items()},
        "void": record.void,
    }


def record_from_json(data: dict[str, Any]) -> KpiRecord:
    subject = data["subject"]
    return KpiRecord(
        source=data["source"],
        external_id=data["external_id"],
        version=int(data["version"]),
        subject=SubjectRef(subject["kind"], subject["key"], subject.get("name")),
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        facts=dict(data.get("facts") or {}),
        metrics={key: (float(num), float(den)) for key, (num, den) in (data.get("metrics") or {}).items()},
        void=bool(data.get("void", False)),
    )
