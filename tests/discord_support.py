"""The PwC workbook in two teams with their supervisors, and a store, for Discord tests of every command.

West (Jim, Joe, Martha, Stewart) and east (Becky, Dan, Diane, Greg) from 2021-01-01; Sam Reed supervises
both, Ann Lee only a team of her own (north). Greg has no Discord account: he links with /link.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from unittest import mock

from bot.programs import __file__ as _programs_init
from tests.cli_support import cli
from tests.conftest import shared_file
from tests.fakes.discord_harness import GUILD
from tests.integration.test_real_data_pwc import XLSX

MARTHA = ("1800000000000000001", "martha.discord")
JIM = ("1800000000000000002", "jim.discord")
BECKY = ("1800000000000000003", "becky.discord")
GREG = ("1800000000000000004", "greg.discord")
SAM = ("1800000000000000009", "sam.discord")
ANN = ("1800000000000000010", "ann.discord")
WEST = ("Jim", "Joe", "Martha", "Stewart")
EAST = ("Becky", "Dan", "Diane", "Greg")
DISCORD = {"Martha": MARTHA, "Jim": JIM, "Becky": BECKY}
REWARDS = """
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
    """The built-in program with a rewards store added."""
    default = Path(_programs_init).with_name("default.yaml").read_text(encoding="utf-8")
    path = folder / "program.yaml"
    path.write_text(default + REWARDS, encoding="utf-8")
    return path


def build_teams_db(folder: Path) -> Path:
    """The workbook imported under the store program, the roster of two teams imported."""
    url = f"sqlite:///{folder / 'fb.db'}"
    program = program_file(folder)
    with mock.patch.dict(os.environ, {"FLOORBOARD_PROGRAM_FILE": str(program)}):
        cli(url, "db", "upgrade")
        cli(url, "import", str(shared_file(XLSX)), "--mapping", "pwc-xlsx")
        path = folder / "roster.csv"
        path.write_text(roster(), encoding="utf-8")
        cli(url, "roster", "import", str(path))
    return folder / "fb.db"


def copy_of(db: Path, folder: Path) -> str:
    """A fresh copy of the database for one test; its program file goes with it."""
    shutil.copy(db, folder / "fb.db")
    shutil.copy(db.with_name("program.yaml"), folder / "program.yaml")
    return f"sqlite:///{folder / 'fb.db'}"
