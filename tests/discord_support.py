"""Worlds for the Discord tests.

The PwC workbook in two teams with their supervisors, a monthly CSAT badge and a store, for tests of every
command: west (Jim, Joe, Martha, Stewart) and east (Becky, Dan, Diane, Greg) from 2021-01-01; Sam Reed
supervises both, Ann Lee only a team of her own (north). Greg has no Discord account: he links with /link.

The big floor: the handler tests' world with 40 more agents, so boards run to several pages; Jim Park (as
JIM) and Ada King (an admin, as ADA) have Discord accounts.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import insert, select

from bot.adapters.console import ConsoleAdapter
from bot.app import Floorboard, build
from bot.handlers.commands import default_registry
from bot.handlers.context import HandlerContext
from bot.programs import __file__ as _programs_init
from bot.settings import load_settings
from bot.store.models import Identity, Person
from tests.cli_support import cli
from tests.conftest import fixed_clock, make_app, shared_file
from tests.fakes.discord_harness import GUILD
from tests.integration.test_real_data_pwc import XLSX
from tests.unit.test_handlers_world import ADMIN, RATINGS, seed

MARTHA = ("1800000000000000001", "martha.discord")
JIM = ("1800000000000000002", "jim.discord")
BECKY = ("1800000000000000003", "becky.discord")
GREG = ("1800000000000000004", "greg.discord")
SAM = ("1800000000000000009", "sam.discord")
ANN = ("1800000000000000010", "ann.discord")
ADA = ("1800000000000000005", "ada.discord")
AGENTS = 40
WEST = ("Jim", "Joe", "Martha", "Stewart")
EAST = ("Becky", "Dan", "Diane", "Greg")
DISCORD = {"Martha": MARTHA, "Jim": JIM, "Becky": BECKY}
STORE_AND_BADGE = """
badges:
  - {id: csat-month, name: CSAT month, kind: threshold, metric: csat, period: month, min_samples: 50,
     at_least: 3.5}
rewards:
  - {id: mug, name: Floorboard mug, price: 5}
  - {id: day-off, name: Half a day off, price: 40, stock: 1}
"""


def roster() -> str:
    lines = ["name,role,team,team_from,supervises,keys"]
    for team, names in (("west", WEST), ("east", EAST)):
        for name in names:
            account = f";discord:{GUILD}/{DISCORD[name][0]}" if name in DISCORD else ""
            lines.append(f"{name},agent,{team},2021-01-01,,pwc:{name}{account}")
    lines.append(f"Sam Reed,supervisor,,,west;east,discord:{GUILD}/{SAM[0]}")
    lines.append(f"Ann Lee,supervisor,north,2021-01-01,north,discord:{GUILD}/{ANN[0]}")
    return "\n".join(lines) + "\n"


def program_file(folder: Path) -> Path:
    """The built-in program with a monthly CSAT badge and a rewards store added."""
    default = Path(_programs_init).with_name("default.yaml").read_text(encoding="utf-8")
    path = folder / "program.yaml"
    path.write_text(default + STORE_AND_BADGE, encoding="utf-8")
    return path


def build_teams_db(folder: Path) -> Path:
    """The workbook imported under the store program, the roster of two teams imported."""
    url = f"sqlite:///{folder / 'fb.db'}"
    program = program_file(folder)
    with mock.patch.dict(os.environ, {"FLOORBOARD_PROGRAM_FILE": str(program)}):
        cli(url, "db", "upgrade")
        cli(url, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx")
        cli(url, "periods", "close", "--through", "2021-03-31")  # a finished backfill: months close now
        path = folder / "roster.csv"
        path.write_text(roster(), encoding="utf-8")
        cli(url, "roster", "import", str(path))
    return folder / "fb.db"


def copy_of(db: Path, folder: Path) -> str:
    """A fresh copy of the database for one test; its program file goes with it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(db, folder / "fb.db")
    shutil.copy(db.with_name("program.yaml"), folder / "program.yaml")
    return f"sqlite:///{folder / 'fb.db'}"


class Twin:
    """The console adapter on a second copy of the database, fed the same commands in the same order,
    so a command that writes can be compared with what the console says for it."""

    def __init__(self, url: str) -> None:
        program = Path(url.removeprefix("sqlite:///")).with_name("program.yaml")
        self.fb = build(load_settings(database_url=url, program_file=program), clock=fixed_clock)
        self.console = ConsoleAdapter(HandlerContext.of(self.fb), default_registry(), io.StringIO())

    def say(self, line: str, as_name: str) -> str:
        return self.console.say(line, as_name=as_name)

    def close(self) -> None:
        self.fb.close()


def program_of(url: str) -> dict[str, Any]:
    """running_client settings for a database made by `copy_of`: its program file."""
    return {"program_file": Path(url.removeprefix("sqlite:///")).with_name("program.yaml")}


def option(name: str, value: Any, kind: int = 3) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


def sub(name: str, *options: dict[str, Any]) -> list[dict[str, Any]]:
    """The options of a subcommand (`challenge create …`): one option of type 1 holding the rest."""
    return [{"name": name, "type": 1, "options": list(options)}]


def big_floor() -> dict[str, list[int]]:
    """40 agents with 10 surveys each; agent k has k % 11 fives, so the board is long and mostly tied."""
    return {f"Agent {k:02d}": [5] * (k % 11) + [4] * (10 - k % 11) for k in range(AGENTS)}


def link(app: Floorboard, name: str, user_id: str) -> int:
    with app.engine.begin() as connection:
        person_id = connection.scalar(select(Person.id).where(Person.display_name == name))
        connection.execute(
            insert(Identity).values(person_id=person_id, kind="discord", namespace=GUILD, key=user_id)
        )
    return int(person_id)


def big_floor_db(url: str) -> str:
    """The big floor at `url`, Jim Park and Ada King linked to Discord."""
    app = make_app(url)
    seed(app, {**RATINGS, **big_floor()})
    link(app, "Jim Park", JIM[0])
    link(app, ADMIN, ADA[0])
    app.close()
    return url
