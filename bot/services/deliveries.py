"""Delivery claims: a platform's delivery identity, claimed in the transaction of its effect."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.models import Delivery

Claim = Literal["claimed", "replayed", "reused"]


def claim(connection: Connection, *, platform: str, key: str, fingerprint: str, now: datetime) -> Claim:
    """Claim (platform, key) for the command with this fingerprint, in the caller's transaction.

    "replayed": the key was claimed before for the same command; "reused": for another one. Either way
    the caller must do nothing. The unique key, not a read, decides: two replicas racing get one claim.
    """
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    claimed = connection.execute(
        dialect.insert(Delivery)
        .values(platform=platform, key=key, fingerprint=fingerprint, created_at=now)
        .on_conflict_do_nothing()
        .returning(Delivery.id)
    ).first()
    if claimed is not None:
        return "claimed"
    stored = connection.scalar(
        select(Delivery.fingerprint).where(Delivery.platform == platform, Delivery.key == key)
    )
    return "reused" if stored is not None and stored != fingerprint else "replayed"


def seen(connection: Connection, *, platform: str, key: str) -> bool:
    """Whether (platform, key) was claimed already: a hint for a form's checks, never the guard."""
    found = connection.scalar(select(Delivery.id).where(Delivery.platform == platform, Delivery.key == key))
    return found is not None
