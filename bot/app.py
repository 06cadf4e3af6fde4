"""Composition root: build every part from settings, start and stop them. Nothing here runs at import."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from bot.clock import Clock, utc_now
from bot.feeds.records import KpiRecord, RowReject
from bot.program import LoadedProgram, Program, load_program
from bot.services import points, programs, rewards
from bot.services.ingest import IngestCounts, Ingestor, ItemOutcome
from bot.settings import Settings
from bot.store.database import add_test_delay, ensure_migrated, make_engine


@dataclass
class Floorboard:
    settings: Settings
    engine: Engine
    loaded: LoadedProgram
    version: int
    history: programs.ProgramHistory
    clock: Clock = field(default=utc_now)

    @property
    def program(self) -> Program:
        return self.loaded.program

    @property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.engine, self.program, self.clock)

    def ingest(
        self,
        chunks: Iterable[Sequence[KpiRecord | RowReject]],
        *,
        source: str,
        origin: str,
        create_unknown: bool,
        mapping: str | None = None,
        filename: str | None = None,
        sha256: str | None = None,
        filtered: Callable[[], int] | None = None,
        keep_outcomes: bool = True,
        columnar: bool = True,
    ) -> tuple[int, IngestCounts, list[ItemOutcome]]:
        """Ingest chunks as one batch, then score the touched days; returns batch id, counts, outcomes.

        `filtered`, asked once the chunks are consumed, counts rows a feed skipped on purpose (row filters).
        A file import of a million rows needs only the counts: `keep_outcomes=False` returns no outcomes.
        `columnar=False` takes every record through the general per-record path (same results, slower).
        """
        ingestor = Ingestor(self.engine, self.program, self.clock, columnar=columnar)
        batch_id = ingestor.start_batch(
            source=source, origin=origin, mapping=mapping, filename=filename, sha256=sha256
        )
        counts = IngestCounts()
        outcomes: list[ItemOutcome] = []
        for chunk in chunks:
            result = ingestor.ingest(chunk, batch_id=batch_id, create_unknown=create_unknown)
            counts.add(result)
            if keep_outcomes:
                outcomes.extend(result)
        if filtered is not None:
            counts.filtered = filtered()
            counts.read += counts.filtered
        ingestor.finish_batch(batch_id, counts)
        self.score()
        return batch_id, counts, outcomes

    def score(self) -> int:
        return points.score_pending(self.engine, self.history, self.clock)

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings, *, clock: Clock = utc_now, migrate_check: bool = True) -> Floorboard:
    """Build the app; refuses an unmigrated database (run `floorboard db upgrade`)."""
    engine = make_engine(settings.database_url)
    if migrate_check:
        ensure_migrated(engine)
    loaded = load_program(settings.program_file)
    version = programs.register(engine, loaded, clock)
    if loaded.program.rewards and migrate_check:
        with engine.begin() as connection:  # the program's store items; stock is only a starting stock
            rewards.sync_program_items(connection, loaded.program, now=clock())
    history = programs.history(engine)
    if settings.test_db_delay_ms:  # after start-up, so a stalled database is played while serving
        add_test_delay(engine, settings.test_db_delay_ms)
    return Floorboard(settings, engine, loaded, version, history, clock)
