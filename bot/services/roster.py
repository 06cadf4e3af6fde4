"""The roster file: people, their keys and chat accounts, dated team memberships and supervision.

One CSV row per person, matched by e-mail, else by one of their keys, else by name. Importing is
idempotent: a row that matches what is stored changes nothing, so exporting and importing again is a
no-op. A blank cell leaves the stored value as it is; `-` clears `hire_date`, `team_to`, `skills` and
`supervises`. A row naming the person's current team changes at most its `team_to`; a different team
closes the current membership on `team_from` (default today) and opens the new one from then. Keys are
only ever added: an identity is unbound by erasing or relinking the person, never by leaving it out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services.people import is_bot
from bot.store.models import AuditEntry, Identity, Person, Supervision, Team, TeamMembership

ROLES = ("agent", "supervisor", "admin")
YES_NO = {"yes": True, "no": False}
COLUMNS = (
    "name",
    "email",
    "role",
    "bot",
    "hire_date",
    "team",
    "team_from",
    "team_to",
    "supervises",
    "skills",
    "keys",
    "team_name",
    "team_timezone",
    "team_day_start",
)
CLEAR = "-"
ACTOR = "roster import"
_CHAT_KINDS = ("slack", "discord")


class RosterError(ValueError):
    """Problems in a roster file, each naming its file and line; nothing was changed.

    When the file could be read row by row, `rows` holds the rows that parsed, so they can still be
    checked against the database and every problem reported at once.
    """

    def __init__(self, problems: list[str], rows: list[RosterRow] | None = None) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.rows = rows


@dataclass(frozen=True, slots=True)
class KeyRef:
    """An identity as (kind, namespace, key): `pwc:Martha`, `slack:T123/U456`, `console:Martha`."""

    kind: str
    namespace: str
    key: str


def parse_key(text: str, *, console_namespace: str = "console") -> KeyRef:
    kind, colon, rest = text.strip().partition(":")
    if not colon or not kind or not rest:
        raise ValueError(f"key {text.strip()!r} is not source:key (for example pwc:Martha)")
    if kind in _CHAT_KINDS:
        namespace, slash, key = rest.partition("/")
        if not slash or not namespace or not key:
            raise ValueError(f"{kind} identity {text.strip()!r} must look like {kind}:WORKSPACE/USER")
        return KeyRef(kind, namespace, key)
    if kind == "console":
        namespace, slash, key = rest.rpartition("/")
        return KeyRef("console", namespace if slash else console_namespace, key)
    return KeyRef("source", kind, rest)


def format_key(ref: KeyRef, *, console_namespace: str = "console") -> str:
    if ref.kind == "source":
        return f"{ref.namespace}:{ref.key}"
    if ref.kind == "console" and ref.namespace == console_namespace:
        return f"console:{ref.key}"
    return f"{ref.kind}:{ref.namespace}/{ref.key}"


@dataclass(slots=True)
class RosterRow:
    line: int
    name: str
    email: str | None = None
    role: str | None = None
    bot: bool | None = None  # a bot account (kudos neither from nor to it); None keeps what is stored
    hire_date: date | None = None
    team: str | None = None
    team_from: date | None = None
    team_to: date | None = None
    supervises: list[str] | None = None
    skills: list[str] | None = None
    keys: list[KeyRef] = field(default_factory=list)
    team_name: str | None = None
    team_timezone: str | None = None
    team_day_start: int | None = None
    cleared: frozenset[str] = frozenset()


@dataclass(slots=True)
class RosterReport:
    people_created: int = 0
    people_updated: int = 0
    people_unchanged: int = 0
    identities_added: int = 0
    memberships_opened: int = 0
    memberships_closed: int = 0
    memberships_updated: int = 0
    teams_created: int = 0
    teams_updated: int = 0
    supervisions_added: int = 0
    supervisions_removed: int = 0
    #: (line, person id, old name, new name) of each person a row renamed: said, never silent
    renamed: list[tuple[int, int, str, str]] = field(default_factory=list)

    @property
    def moves_clocks(self) -> bool:
        """Whether a membership or a team's zone or day start changed, so business days may move."""
        return bool(
            self.memberships_opened + self.memberships_closed + self.memberships_updated + self.teams_updated
        )

    @property
    def changes(self) -> int:
        return sum(value for name, value in self.as_dict().items() if name != "people_unchanged")

    def as_dict(self) -> dict[str, int]:
        """The counts (the renames are listed apart, in `renamed`)."""
        return {name: value for name, value in asdict(self).items() if name != "renamed"}


def read_roster(path: Path, *, console_namespace: str = "console") -> list[RosterRow]:
    """Parse a roster CSV; every problem is reported at once, with its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise RosterError([f"{path}: cannot read the roster ({error})"]) from None
    return parse_roster(text, str(path), console_namespace=console_namespace)


def parse_roster(text: str, origin: str, *, console_namespace: str = "console") -> list[RosterRow]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    if "name" not in header:
        raise RosterError(
            [f"{origin}:1: the header must have a 'name' column; columns: {', '.join(COLUMNS)}"]
        )
    unknown = [name for name in header if name and name not in COLUMNS]
    if unknown:
        raise RosterError(
            [f"{origin}:1: unknown column(s) {', '.join(unknown)}; columns: {', '.join(COLUMNS)}"]
        )
    reader.fieldnames = header
    rows, problems = [], []
    for raw in reader:
        line = reader.line_num
        cells = {key: (value or "").strip() for key, value in raw.items() if key}
        if not any(cells.values()):
            continue
        row, bad = _row(line, cells, console_namespace)
        if bad:
            problems.append(f"{origin}:{line}: {'; '.join(bad)}")
        if row.name:  # still checked against the database, so its other problems show in this run too
            rows.append(row)
    if problems:
        raise RosterError(problems, rows)
    return rows


def _row(line: int, cells: dict[str, str], console_namespace: str) -> tuple[RosterRow, list[str]]:
    """One row, its bad cells left blank, and every problem of its cells."""
    problems: list[str] = []

    def cell(name: str) -> str | None:
        value = cells.get(name, "")
        return value if value and value != CLEAR else None

    def checked(parse: Any, *args: Any) -> Any:
        try:
            return parse(*args)
        except ValueError as error:
            problems.append(str(error))
            return None

    name = cell("name")
    if name is None:
        problems.append("name is required")
    role = cell("role")
    if role is not None and role.lower() not in ROLES:
        problems.append(f"role {role!r} must be one of {', '.join(ROLES)}")
        role = None
    bot = cell("bot")
    if bot is not None and bot.lower() not in YES_NO:
        problems.append(f"bot must be yes or no, got {bot!r}")
    hire_date = checked(_day, cell("hire_date"), "hire_date")
    team_from = checked(_day, cell("team_from"), "team_from")
    team_to = checked(_day, cell("team_to"), "team_to")
    if team_from is not None and team_to is not None and team_to <= team_from:
        problems.append(f"team_to {team_to} must be after team_from {team_from}")
        team_to = None
    read_key = partial(parse_key, console_namespace=console_namespace)
    keys = [checked(read_key, key) for key in _list(cells.get("keys", "")) or []]
    timezone = cell("team_timezone")
    if timezone is not None:
        before = len(problems)
        checked(_check_zone, timezone)
        timezone = timezone if len(problems) == before else None
    day_start = cell("team_day_start")
    row = RosterRow(
        line=line,
        name=name or "",
        email=cell("email"),
        role=role.lower() if role else None,
        bot=YES_NO.get(bot.lower()) if bot else None,
        hire_date=hire_date,
        team=cell("team"),
        team_from=team_from,
        team_to=team_to,
        supervises=_list(cells.get("supervises", "")),
        skills=_list(cells.get("skills", "")),
        keys=[key for key in keys if key is not None],
        team_name=cell("team_name"),
        team_timezone=timezone,
        team_day_start=checked(_minutes, day_start) if day_start else None,
        cleared=frozenset(name for name, value in cells.items() if value == CLEAR),
    )
    return row, problems


def _day(value: str | None, column: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{column} must be a date as YYYY-MM-DD, got {value!r}") from None


def _list(value: str) -> list[str] | None:
    if not value:
        return None
    if value == CLEAR:
        return []
    return [part.strip() for part in value.split(";") if part.strip()]


def _minutes(value: str) -> int:
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"team_day_start must be a time of day as HH:MM, got {value!r}") from None
    return parsed.hour * 60 + parsed.minute


def _check_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"team_timezone {value!r} is not an IANA zone such as Europe/London") from None


def import_roster_file(
    engine: Engine,
    path: Path,
    *,
    today: date,
    clock: Clock,
    console_namespace: str = "console",
    actor: str = ACTOR,
    dry_run: bool = False,
) -> RosterReport:
    """Read and apply a roster file, or change nothing and report every problem in it at once.

    Rows with a bad cell are reported, and the rows that parsed are still checked against the database
    (identities bound to someone else, dates before the current membership, …), so one run lists every
    bad row of the file, in line order.
    """
    try:
        rows, problems = read_roster(path, console_namespace=console_namespace), []
    except RosterError as error:
        if error.rows is None:
            raise
        rows, problems = error.rows, list(error.problems)
    origin = str(path)
    try:
        report = import_roster(
            engine,
            rows,
            origin=origin,
            today=today,
            clock=clock,
            actor=actor,
            dry_run=dry_run or bool(problems),
        )
    except RosterError as error:
        problems += error.problems
    if problems:
        raise RosterError(sorted(problems, key=lambda problem: _line_of(problem, origin)))
    return report


def _line_of(problem: str, origin: str) -> int:
    number = problem.removeprefix(f"{origin}:").partition(":")[0]
    return int(number) if number.isdigit() else 0


def import_roster(
    engine: Engine,
    rows: Iterable[RosterRow],
    *,
    origin: str,
    today: date,
    clock: Clock,
    actor: str = ACTOR,
    dry_run: bool = False,
) -> RosterReport:
    """Apply roster rows in one transaction: all of them, or none when any row has a problem."""
    with Session(engine) as session:
        applier = _Applier(session, origin=origin, today=today, now=clock(), actor=actor)
        for row in rows:
            applier.apply(row)
        if applier.problems:
            session.rollback()
            raise RosterError(applier.problems)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return applier.report


class _RowProblem(ValueError):
    pass


class _Applier:
    def __init__(self, session: Session, *, origin: str, today: date, now: datetime, actor: str) -> None:
        self._session = session
        self._origin = origin
        self._today = today
        self._now = now
        self._actor = actor
        self._people_lines: dict[int, int] = {}
        self._team_values: dict[tuple[str, str], tuple[Any, int]] = {}
        self.report = RosterReport()
        self.problems: list[str] = []

    def apply(self, row: RosterRow) -> None:
        try:
            person = self._match(row)
            unbound = self._check_keys(row, person)
            self._check_team_values(row)
            created = person is None
            changed = False
            if person is None:
                person = self._create(row)
            else:
                changed = self._person(row, person)
            for ref in unbound:
                self._identity(person, ref)
            changed = self._membership(person, row) or changed
            changed = self._supervision(person, row) or changed
            changed = changed or bool(unbound)
            if not created:
                if changed:
                    self.report.people_updated += 1
                else:
                    self.report.people_unchanged += 1
            self._session.flush()
        except _RowProblem as problem:
            self.problems.append(f"{self._origin}:{row.line}: {problem}")

    def _match(self, row: RosterRow) -> Person | None:
        person = None
        if row.email:
            person = self._session.scalar(select(Person).where(func.lower(Person.email) == row.email.lower()))
        if person is None:
            owners = {owner for ref in row.keys if (owner := self._owner(ref)) is not None}
            if len(owners) > 1:
                names = ", ".join(sorted(self._describe(pid) for pid in owners))
                raise _RowProblem(f"the keys of {row.name!r} are bound to different people ({names})")
            if owners:
                person = self._session.get(Person, owners.pop())
                if person is not None:
                    self._check_email(row, person)
        if person is None:
            same_name = self._session.scalars(select(Person).where(Person.display_name == row.name)).all()
            candidates = [p for p in same_name if p.email is None or not row.email]
            if len(candidates) > 1:
                raise _RowProblem(
                    f"{len(candidates)} people are named {row.name!r}; add an email or a key to say which"
                )
            person = candidates[0] if candidates else None
        if person is not None:
            first = self._people_lines.setdefault(person.id, row.line)
            if first != row.line:
                raise _RowProblem(f"{row.name!r} is the same person as on line {first}")
        return person

    def _check_email(self, row: RosterRow, person: Person) -> None:
        """A row matched by its keys may change the person's e-mail or their name, not both at once, and
        never to another person's e-mail: such a row names two people (or a key pasted on the wrong row),
        so it is refused rather than renaming the one and taking the other's e-mail."""
        if not row.email or not person.email or person.email.lower() == row.email.lower():
            return
        other = self._session.scalar(select(Person).where(func.lower(Person.email) == row.email.lower()))
        if other is None and row.name == person.display_name:
            return  # the same person with a new e-mail
        keys = ", ".join(format_key(ref, console_namespace=ref.namespace) for ref in row.keys)
        owner = self._describe(person.id)
        mine = f"the keys {keys} of {row.name!r} are {owner}'s, whose e-mail is {person.email}"
        if other is not None:
            theirs = self._describe(other.id)
            raise _RowProblem(
                f"{mine}, but its e-mail {row.email} is {theirs}'s; correct the keys or the e-mail"
            )
        raise _RowProblem(
            f"{mine}; the row changes both the name and the e-mail, which makes it another person: "
            "correct the keys, or change the name and the e-mail in two imports"
        )

    def _owner(self, ref: KeyRef) -> int | None:
        """Who holds a key; chat accounts are matched without regard to case, as commands look them up."""
        same_key = (
            Identity.key == ref.key if ref.kind == "source" else func.lower(Identity.key) == ref.key.lower()
        )
        return self._session.scalar(
            select(Identity.person_id).where(
                Identity.kind == ref.kind, Identity.namespace == ref.namespace, same_key
            )
        )

    def _describe(self, person_id: int) -> str:
        person = self._session.get(Person, person_id)
        name = person.display_name if person else "?"
        return f"#{person_id} {name}"

    def _check_keys(self, row: RosterRow, person: Person | None) -> list[KeyRef]:
        """The keys still to bind; a key bound to someone else is an error."""
        missing = []
        for ref in dict.fromkeys(row.keys):
            owner = self._owner(ref)
            if owner is None:
                missing.append(ref)
            elif person is None or owner != person.id:
                raise _RowProblem(
                    f"identity {format_key(ref, console_namespace=ref.namespace)} is already bound to "
                    f"{self._describe(owner)}, not to {row.name!r}"
                )
        return missing

    def _check_team_values(self, row: RosterRow) -> None:
        if row.team is None:
            return
        for column in ("team_name", "team_timezone", "team_day_start"):
            value = getattr(row, column)
            if value is None:
                continue
            seen, line = self._team_values.setdefault((row.team, column), (value, row.line))
            if seen != value:
                raise _RowProblem(
                    f"{column} of team {row.team!r} is {value!r} here but {seen!r} on line {line}"
                )

    def _create(self, row: RosterRow) -> Person:
        person = Person(
            display_name=row.name,
            email=row.email,
            role=row.role or "agent",
            hire_date=row.hire_date,
            skills=row.skills or [],
            attributes={"bot": True} if row.bot else {},
            public_boards=True,
            created_at=self._now,
        )
        self._session.add(person)
        self._session.flush()
        self._people_lines[person.id] = row.line
        details = {"name": row.name, "email": row.email, "line": row.line}
        self._audit("person.create", f"person:{person.id}", details | ({"bot": True} if row.bot else {}))
        self.report.people_created += 1
        return person

    def _person(self, row: RosterRow, person: Person) -> bool:
        wanted: dict[str, Any] = {"display_name": row.name}
        if row.email:
            wanted["email"] = row.email
        if row.role:
            wanted["role"] = row.role
        if row.hire_date or "hire_date" in row.cleared:
            wanted["hire_date"] = row.hire_date
        if row.skills is not None:
            wanted["skills"] = row.skills
        changes = {
            key: [getattr(person, key), value]
            for key, value in wanted.items()
            if getattr(person, key) != value
        }
        if row.bot is not None and is_bot(person.attributes) != row.bot:
            changes["bot"] = [is_bot(person.attributes), row.bot]
        if not changes:
            return False
        if "display_name" in changes:
            self.report.renamed.append((row.line, person.id, person.display_name, row.name))
        for key, (_, value) in changes.items():
            if key == "bot":
                person.attributes = {**(person.attributes or {}), "bot": value}
            else:
                setattr(person, key, value)
        self._audit("person.update", f"person:{person.id}", {"changes": _jsonable(changes), "line": row.line})
        return True

    def _identity(self, person: Person, ref: KeyRef) -> None:
        self._session.add(Identity(person_id=person.id, kind=ref.kind, namespace=ref.namespace, key=ref.key))
        self._audit(
            "identity.add",
            f"person:{person.id}",
            {"kind": ref.kind, "namespace": ref.namespace, "key": ref.key},
        )
        self.report.identities_added += 1

    def _team(self, key: str, row: RosterRow | None) -> Team:
        team = self._session.scalar(select(Team).where(Team.key == key))
        name = zone = day_start = None
        if row is not None and row.team == key:
            name, zone, day_start = row.team_name, row.team_timezone, row.team_day_start
        if team is None:
            team = Team(
                key=key, name=name or key, timezone=zone, day_start_minutes=day_start or 0, channels={}
            )
            self._session.add(team)
            self._session.flush()
            self._audit(
                "team.create",
                f"team:{key}",
                {"name": team.name, "timezone": zone, "day_start_minutes": day_start or 0},
            )
            self.report.teams_created += 1
            return team
        wanted = {"name": name, "timezone": zone, "day_start_minutes": day_start}
        changes = {
            k: [getattr(team, k), v] for k, v in wanted.items() if v is not None and getattr(team, k) != v
        }
        if changes:
            for column, (_, value) in changes.items():
                setattr(team, column, value)
            self._audit("team.update", f"team:{key}", {"changes": changes})
            self.report.teams_updated += 1
        return team

    def _membership(self, person: Person, row: RosterRow) -> bool:
        if row.team is None:
            return False
        team = self._team(row.team, row)
        current = self._session.scalars(
            select(TeamMembership)
            .where(TeamMembership.person_id == person.id)
            .order_by(TeamMembership.valid_from.desc(), TeamMembership.id.desc())
            .limit(1)
        ).first()
        if current is not None and current.team_id == team.id:
            return self._same_team(current, row)
        start = row.team_from or self._today
        if row.team_to is not None and row.team_to <= start:
            raise _RowProblem(f"team_to {row.team_to} must be after team_from {start}")
        if current is not None and (current.valid_to is None or current.valid_to > start):
            if current.valid_from >= start:
                raise _RowProblem(
                    f"team_from {start} must be after {current.valid_from}, when the current membership "
                    f"(team {self._team_key(current.team_id)!r}) began"
                )
            current.valid_to = start
            self._audit(
                "membership.close",
                f"person:{person.id}",
                {"team": self._team_key(current.team_id), "valid_to": start.isoformat()},
            )
            self.report.memberships_closed += 1
        self._session.add(
            TeamMembership(person_id=person.id, team_id=team.id, valid_from=start, valid_to=row.team_to)
        )
        details = {"team": row.team, "valid_from": start.isoformat(), "valid_to": _iso(row.team_to)}
        self._audit("membership.open", f"person:{person.id}", details)
        self.report.memberships_opened += 1
        return True

    def _same_team(self, current: TeamMembership, row: RosterRow) -> bool:
        valid_to = None if "team_to" in row.cleared else row.team_to or current.valid_to
        if valid_to == current.valid_to:
            return False
        if valid_to is not None and valid_to <= current.valid_from:
            raise _RowProblem(
                f"team_to {valid_to} must be after {current.valid_from}, when the membership began"
            )
        self._audit(
            "membership.update",
            f"person:{current.person_id}",
            {"team": row.team, "valid_to": [_iso(current.valid_to), _iso(valid_to)]},
        )
        current.valid_to = valid_to
        self.report.memberships_updated += 1
        return True

    def _team_key(self, team_id: int) -> str:
        return str(self._session.scalar(select(Team.key).where(Team.id == team_id)))

    def _supervision(self, person: Person, row: RosterRow) -> bool:
        if row.supervises is None:
            return False
        wanted = {self._team(key, row).id: key for key in dict.fromkeys(row.supervises)}
        held = {
            s.team_id: s
            for s in self._session.scalars(select(Supervision).where(Supervision.supervisor_id == person.id))
        }
        for team_id in wanted.keys() - held.keys():
            self._session.add(Supervision(supervisor_id=person.id, team_id=team_id))
            self._audit("supervision.add", f"person:{person.id}", {"team": wanted[team_id]})
            self.report.supervisions_added += 1
        for team_id in held.keys() - wanted.keys():
            self._session.delete(held[team_id])
            self._audit("supervision.remove", f"person:{person.id}", {"team": self._team_key(team_id)})
            self.report.supervisions_removed += 1
        return wanted.keys() != held.keys()

    def _audit(self, action: str, target: str, details: dict[str, Any]) -> None:
        self._session.add(
            AuditEntry(
                at=self._now, actor=self._actor, action=f"roster.{action}", target=target, details=details
            )
        )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _jsonable(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {key: [v.isoformat() if isinstance(v, date) else v for v in pair] for key, pair in changes.items()}


def export_roster(engine: Engine, path: Path, *, console_namespace: str = "console") -> int:
    """Write every person in the import format; returns how many rows were written."""
    rows = roster_rows(engine, console_namespace=console_namespace)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def roster_rows(engine: Engine, *, console_namespace: str = "console") -> list[dict[str, str]]:
    with Session(engine) as session:
        teams = {team.id: team for team in session.scalars(select(Team))}
        keys: dict[int, list[str]] = {}
        for identity in sorted(session.scalars(select(Identity)), key=_key_order):
            ref = KeyRef(identity.kind, identity.namespace, identity.key)
            keys.setdefault(identity.person_id, []).append(
                format_key(ref, console_namespace=console_namespace)
            )
        current: dict[int, TeamMembership] = {}
        for held in session.scalars(
            select(TeamMembership).order_by(TeamMembership.valid_from, TeamMembership.id)
        ):
            current[held.person_id] = held
        supervises: dict[int, list[str]] = {}
        for supervision in session.scalars(select(Supervision)):
            supervises.setdefault(supervision.supervisor_id, []).append(teams[supervision.team_id].key)
        out = []
        for person in session.scalars(select(Person).order_by(Person.display_name, Person.id)):
            membership = current.get(person.id)
            team = teams[membership.team_id] if membership else None
            out.append(
                {
                    "name": person.display_name,
                    "email": person.email or "",
                    "role": person.role,
                    "bot": "yes" if is_bot(person.attributes) else "no",
                    "hire_date": _iso(person.hire_date) or "",
                    "team": team.key if team else "",
                    "team_from": (_iso(membership.valid_from) if membership else None) or "",
                    "team_to": (_iso(membership.valid_to) if membership else None) or "",
                    "supervises": ";".join(sorted(supervises.get(person.id, []))),
                    "skills": ";".join(person.skills or []),
                    "keys": ";".join(keys.get(person.id, [])),
                    "team_name": team.name if team else "",
                    "team_timezone": (team.timezone or "") if team else "",
                    "team_day_start": _clock(team.day_start_minutes) if team else "",
                }
            )
        return out


def _key_order(identity: Identity) -> tuple[bool, str, str, str]:
    """Source keys first, then chat accounts."""
    return identity.kind != "source", identity.kind, identity.namespace, identity.key


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
