"""What one import has stored itself, so its dedupe lookups skip the database when nobody else writes.

On SQLite, writers take turns and record ids only grow, so if the highest record id is the one this import
left after its last chunk, every record of a source that was empty when the import began is one of its
own. A set of their external ids' hashes then answers "never stored" for almost every key; a key that is
(or collides with) one of its own is still looked up. Any other writer, a rolled-back chunk or another
database turns the shortcut off for the rest of the import.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, select

from bot.store.models import KpiRecordRow, table_of


class OwnRecords:
    def __init__(self) -> None:
        self._sources: dict[str, set[int] | None] = {}  # None: the source had records of others
        self._high: int | None = None
        self._enabled = True

    def check(self, connection: Connection) -> None:
        """At the start of a chunk's transaction: drop the shortcut if anyone else wrote records."""
        if not self._enabled:
            return
        if connection.dialect.name != "sqlite":
            self._enabled = False
            return
        high = _highest_id(connection)
        if self._high is not None and high != self._high:
            self.disable()
        self._high = high

    def disable(self) -> None:
        self._enabled = False
        self._sources.clear()

    def candidates(self, connection: Connection, source: str, ids: set[str]) -> set[str] | None:
        """The ids that may be stored (to look up), or None when the source's own set is not known."""
        if not self._enabled:
            return None
        if source not in self._sources:
            table = table_of(KpiRecordRow)
            empty = connection.scalar(select(table.c.id).where(table.c.source == source).limit(1)) is None
            self._sources[source] = set() if empty else None
        own = self._sources[source]
        if own is None:
            return None
        if own.isdisjoint(map(hash, ids)):
            return set()
        return {external_id for external_id in ids if hash(external_id) in own}

    def stored(self, connection: Connection, source_ids: Iterable[tuple[str, Iterable[str]]]) -> None:
        """After a chunk's writes, in its transaction: remember its ids and the highest record id."""
        if not self._enabled:
            return
        for source, ids in source_ids:
            own = self._sources.get(source)
            if own is not None:
                own.update(map(hash, ids))
        self._high = _highest_id(connection)


def _highest_id(connection: Connection) -> int:
    table = table_of(KpiRecordRow)
    return int(connection.scalar(select(func.max(table.c.id))) or 0)
