"""`floorboard rewards list|add|restock` and `floorboard audit`, through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import build_cli
from tests.cli_support import cli


def _run(url: str, program: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(
        build_cli(),
        list(args),
        env={"FLOORBOARD_DATABASE_URL": url, "FLOORBOARD_PROGRAM_FILE": str(program), "COLUMNS": "200"},
    )
    assert result.exit_code == code, result.output
    return result.output


def test_store_items_from_the_program_and_the_cli_with_an_audit_trail(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    program = tmp_path / "program.yaml"
    program.write_text(
        "rewards:\n  - {id: mug, name: Floorboard mug, price: 10, stock: 3}\n"
        "  - {id: lunch, name: Team lunch, price: 120.5}\n",
        encoding="utf-8",
    )
    cli(url, "db", "upgrade")
    listed = _run(url, program, "rewards", "list")
    rows = [line.split("│") for line in listed.splitlines() if "│" in line]
    cells = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    assert ["mug", "Floorboard mug", "10.00", "3"] in cells
    assert ["lunch", "Team lunch", "120.50", "∞"] in cells
    assert "added tshirt: T-shirt, 25 coins" in _run(
        url, program, "rewards", "add", "tshirt", "--name", "T-shirt", "--price", "25", "--stock", "2"
    )
    assert "mug: stock 8" in _run(url, program, "rewards", "restock", "mug", "5")
    _run(url, program, "rewards", "list")  # the program's starting stock does not refill the mug
    assert "mug: stock 9" in _run(url, program, "rewards", "restock", "mug", "1")
    refused = _run(url, program, "rewards", "restock", "cake", "1", code=1)
    assert "no reward 'cake'" in refused
    audit = json.loads(_run(url, program, "audit", "--action", "rewards.", "--format", "json"))
    assert [(a["actor"], a["action"], a["target"], a["details"].get("stock")) for a in audit] == [
        ("cli", "rewards.item_add", "reward:tshirt", 2),
        ("cli", "rewards.restock", "reward:mug", 8),
        ("cli", "rewards.restock", "reward:mug", 9),
    ]


def test_a_price_past_any_store_or_not_a_number_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    cli(url, "db", "upgrade")
    for price in ("1e300", "nan", "0", "-5"):
        refused = cli(url, "rewards", "add", "odd", "--name", "Odd", "--price", price, code=1)
        assert "--price must be more than 0 and at most 10,000,000 coins" in refused, price
    assert "odd" not in cli(url, "rewards", "list")
