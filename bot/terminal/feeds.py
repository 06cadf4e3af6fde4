"""`floorboard import`, `floorboard batches list|void` and `floorboard parked list|replay`."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import suppress
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.padding import Padding
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from bot.feeds.mapping import Mapping, MappingError, list_mappings, load_mapping
from bot.feeds.record_columns import ColumnBatch
from bot.feeds.records import KpiRecord, RowReject
from bot.feeds.tabular import LayoutError, ParseRun, csv_row_texts, parse_file, write_rejects
from bot.services import parked
from bot.services.batches import BatchError, void_batch
from bot.services.ingest import IngestCounts
from bot.terminal.batches import batches_list
from bot.terminal.common import console, errors, fail, opened_app

Chunk = Sequence[KpiRecord | RowReject]
SHOWN_REJECTS = 10


#: rows per transaction: large enough that a day's rows of an agent mostly share one rollup write
IMPORT_CHUNK = 20_000


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
    batches = typer.Typer(help="Import batches: list them, void one as a whole.", no_args_is_help=True)
    parked_group = typer.Typer(help="Records parked for an unknown agent key.", no_args_is_help=True)
    app.add_typer(batches, name="batches")
    app.add_typer(parked_group, name="parked")
    batches.command("list")(batches_list)
    batches.command("void")(batches_void)
    parked_group.command("list")(parked_list)
    parked_group.command("replay")(parked_replay)


def import_file(
    path: Path | None = typer.Argument(None, help="CSV or XLSX file to import"),
    mapping_name: str | None = typer.Option(
        None, "--mapping", "-m", help="a shipped mapping name or a YAML path"
    ),
    tz: str | None = typer.Option(None, "--tz", help="zone for naive times (overrides the mapping's)"),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="where to write rejected rows [./<stem>.rejects.csv]"
    ),
    show_mappings: bool = typer.Option(False, "--list-mappings", help="list the shipped mappings and exit"),
) -> None:
    """Import a CSV or XLSX export as one batch; re-importing the same rows changes nothing.

    Rows that cannot be read go to a rejects file and the rest import: for a CSV, the file's header and
    the rejected rows as they were, plus columns floorboard_line and floorboard_reason; fix the rows there
    and import that file with the same mapping. Records for agents the roster does not know are parked
    (or created when the mapping says so).
    """
    if show_mappings:
        _print_mappings(list_mappings(), console)
        return
    if path is None or mapping_name is None:
        raise fail("give a FILE and --mapping NAME_OR_PATH (see: floorboard import --list-mappings)")
    mapping = _load(mapping_name)
    if path.is_dir():
        raise fail(f"{path} is a directory; give one CSV or XLSX file (import each file of it in turn)")
    if not path.is_file():
        raise fail(f"{path}: no such file")
    try:
        digest = _sha256(path)
    except OSError as error:
        raise fail(f"{path}: cannot read the file ({error.strerror})") from None
    rejects_path = rejects or Path.cwd() / f"{path.stem}.rejects.csv"
    with opened_app() as fb, _progress() as progress:
        try:
            run = parse_file(
                path,
                mapping,
                tz=tz,
                default_tz=fb.program.timezone,
                chunk_size=IMPORT_CHUNK,
                on_progress=progress,
            )
        except (LayoutError, ValueError, OSError) as error:
            raise fail(_about(path, error)) from None
        collected: list[RowReject] = []
        try:
            batch_id, counts, _ = fb.ingest(
                _watch(run, collected),
                source=mapping.source,
                origin="file",
                create_unknown=mapping.create_unknown_agents,
                mapping=mapping.name,
                filename=path.name,
                sha256=digest,
                filtered=lambda: run.filtered,
                keep_outcomes=False,
            )
        except (LayoutError, OSError) as error:
            raise fail(
                f"{_about(path, error)}; the rows before it are stored in an unfinished batch "
                "(floorboard batches list): fix the file and import it again, or void that batch"
            ) from None
    _print_counts(batch_id, counts, mapping, path)
    collected = _with_stored_rejects(collected, counts, path, mapping, run)
    if collected:
        _write_rejects(rejects_path, run, collected)
        again = "a CSV variant of the mapping" if run.format == "xlsx" else f"--mapping {mapping_name}"
        _print_rejects(collected, rejects_path, again)


def _with_stored_rejects(
    parsed: list[RowReject], counts: IngestCounts, path: Path, mapping: Mapping, run: ParseRun
) -> list[RowReject]:
    """Every rejected row in line order: the parser's, and those rejected when stored (a repeated id
    with other content), whose source text is read again from the file."""
    seen = {reject.line for reject in parsed}
    stored = [outcome for outcome in counts.rejects if outcome.line and outcome.line not in seen]
    if not stored:
        return parsed
    texts: dict[int, str] = {}
    if run.format == "csv":
        with suppress(OSError, UnicodeDecodeError, LayoutError, csv.Error):
            texts = csv_row_texts(path, mapping, {outcome.line for outcome in stored})
    extra = [
        RowReject(outcome.line, outcome.reason or outcome.status, texts.get(outcome.line, ""))
        for outcome in stored
    ]
    return sorted([*parsed, *extra], key=lambda reject: reject.line)


def _about(path: Path, error: Exception) -> str:
    text = str(error)
    return text if text.startswith(path.name) else f"{path}: {text}"


def _load(name: str) -> Mapping:
    try:
        return load_mapping(name)
    except MappingError as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
        if not _looks_like_a_path(name):
            with suppress(MappingError):
                _print_mappings(list_mappings(), errors)
        raise typer.Exit(2) from None


def _looks_like_a_path(name: str) -> bool:
    path = Path(name)
    return path.suffix.lower() in (".yaml", ".yml") or path.exists()


def _print_mappings(mappings: list[Mapping], out: Console) -> None:
    out.print("Shipped mappings (floorboard import FILE --mapping NAME):", highlight=False)
    for mapping in mappings:
        zone = mapping.timezone or "the program's zone"
        agents = "creates unknown agents" if mapping.create_unknown_agents else "parks unknown agents"
        out.print(
            f"  [bold]{mapping.name}[/]  source {mapping.source}; naive times in {zone}; {agents}",
            highlight=False,
        )
        out.print(Padding(Text(" ".join(mapping.description.split())), (0, 0, 0, 4)))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _progress:
    """A Rich bar on stderr, shown only on a terminal; `on_progress` of the tabular engine."""

    def __init__(self) -> None:
        columns = (TextColumn("importing"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
        self._bar = Progress(*columns, console=errors, transient=True, disable=not errors.is_terminal)
        self._task = self._bar.add_task("import", total=None)

    def __enter__(self) -> _progress:
        self._bar.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._bar.stop()

    def __call__(self, done: int, total: int) -> None:
        self._bar.update(self._task, completed=done, total=total)


def _watch(run: ParseRun, collected: list[RowReject]) -> Iterator[Chunk]:
    for chunk in run:
        items = chunk.others if isinstance(chunk, ColumnBatch) else chunk  # a column batch's rejects
        collected.extend(item for item in items if isinstance(item, RowReject))
        yield chunk


def _print_counts(batch_id: int, counts: IngestCounts, mapping: Mapping, path: Path) -> None:
    console.print(
        f"Imported {path.name} with mapping {mapping.name} (source {mapping.source}) as batch {batch_id}:",
        highlight=False,
        soft_wrap=True,
    )
    names = ("read", "imported", "duplicate", "rejected", "parked", "filtered")
    line = " · ".join(f"{name} {getattr(counts, name):,}" for name in names)
    console.print(f"  {line}", highlight=False, soft_wrap=True)
    if counts.parked:
        console.print(
            f"{counts.parked:,} records are parked for unknown agent keys: see floorboard parked list; "
            "add the keys with floorboard roster import, then run floorboard parked replay.",
            highlight=False,
        )


def _write_rejects(path: Path, run: ParseRun, rejected: list[RowReject]) -> None:
    """The rejected rows in a file that can be fixed and imported again (see `write_rejects`)."""
    try:
        write_rejects(path, run, rejected)
    except OSError as error:
        errors.print(f"warning: cannot write the rejects file {path} ({error.strerror})", highlight=False)


def _print_rejects(rejected: list[RowReject], path: Path, again: str) -> None:
    table = Table(title=f"{len(rejected):,} rejected rows", title_justify="left")
    table.add_column("line", justify="right")
    table.add_column("reason", overflow="fold")
    for reject in rejected[:SHOWN_REJECTS]:
        table.add_row(str(reject.line), reject.reason)
    console.print(table)
    if len(rejected) > SHOWN_REJECTS:
        console.print(f"… and {len(rejected) - SHOWN_REJECTS:,} more.", highlight=False)
    console.print(
        f"Rejected rows are in {path} (with columns floorboard_line and floorboard_reason): "
        f"fix them there and import that file with {again}.",
        highlight=False,
        soft_wrap=True,
    )


def batches_void(batch_id: int = typer.Argument(..., help="the batch id (floorboard batches list)")) -> None:
    """Void a batch: its records stop counting, earlier versions return, affected days are rescored."""
    with opened_app() as fb:
        try:
            retracted = void_batch(fb.engine, fb.program, batch_id, actor="cli", clock=fb.clock)
        except BatchError as error:
            raise fail(str(error)) from None
        scored = fb.score()
    console.print(
        f"Voided batch {batch_id}: {retracted:,} records stopped counting; {scored:,} agent-days rescored.",
        highlight=False,
    )


def parked_list(
    source: str | None = typer.Option(None, "--source", help="only this source"),
    resolved: bool = typer.Option(False, "--all", help="include records already replayed"),
    records: bool = typer.Option(False, "--records", help="one line per record instead of one per key"),
    limit: int = typer.Option(200, "--limit", min=1, help="with --records: at most this many lines"),
) -> None:
    """Records waiting for their agent key to be known, one line per unknown key (add keys with
    floorboard roster import, then floorboard parked replay)."""
    with opened_app() as fb:
        items = parked.list_parked(fb.engine, include_resolved=resolved, source=source)
    if not items:
        console.print("No parked records.")
        return
    if records:
        table = Table(title=f"{len(items):,} parked records", title_justify="left")
        for column in ("source", "external id", "key", "reason", "since", "resolved"):
            table.add_column(column, overflow="fold")
        for item in items[:limit]:
            table.add_row(
                item.source,
                item.external_id,
                item.subject_key,
                item.reason,
                _stamp(item.created_at),
                _stamp(item.resolved_at),
            )
        console.print(table)
        if len(items) > limit:
            console.print(f"… {len(items) - limit:,} more (raise --limit)", highlight=False)
        return
    groups: dict[tuple[str, str], list[parked.ParkedSummary]] = {}
    for item in items:
        groups.setdefault((item.source, item.subject_key), []).append(item)
    table = Table(title=f"{len(items):,} parked records under {len(groups):,} keys", title_justify="left")
    for column in ("source", "key", "records", "first", "last", "reason"):
        table.add_column(column, overflow="fold")
    for (group_source, key), members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        stamps = sorted(member.created_at for member in members)
        table.add_row(
            group_source, key, f"{len(members):,}", _stamp(stamps[0]), _stamp(stamps[-1]), members[0].reason
        )
    console.print(table)
    console.print(
        "Add these keys to the roster (docs/roster.md), then: floorboard parked replay", highlight=False
    )


def parked_replay(source: str | None = typer.Option(None, "--source", help="only this source")) -> None:
    """Ingest parked records again; those whose agent is now known count, the rest stay parked."""
    with opened_app() as fb:
        report = parked.replay(fb.engine, fb.ingestor, fb.clock, source=source)
        fb.score()
    console.print(
        f"Replayed {report.replayed:,}: {report.imported:,} imported, {report.duplicate:,} already in, "
        f"{report.still_parked:,} still parked"
        + (
            f"; {report.skipped_voided:,} left parked because their batch was voided"
            if report.skipped_voided
            else ""
        ),
        highlight=False,
    )


def _stamp(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""
