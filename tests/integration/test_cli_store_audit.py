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


def test_stock_is_bounded_and_an_id_is_a_lower_case_word(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fb.db'}"
    cli(url, "db", "upgrade")
    huge = "99999999999999999999"
    refused = cli(url, "rewards", "add", "mug", "--name", "Mug", "--price", "5", "--stock", huge, code=1)
    assert f"--stock must be from 0 to 1,000,000 units, got {huge}" in refused
    for bad in ("Bad Id!", "Mug", "_mug", "a" * 101):
        refused = cli(url, "rewards", "add", bad, "--name", "Bad", "--price", "5", code=1)
        assert f"{bad!r} is not an item id: use a lower-case word of letters, digits, '-' or '_'" in refused
    assert "added mug: Mug, 5 coins" in cli(url, "rewards", "add", "mug", "--name", "Mug", "--price", "5")
    assert "added early-finish_2: Early" in cli(
        url, "rewards", "add", "early-finish_2", "--name", "Early", "--price", "5", "--stock", "999990"
    )
    assert "add from 1 to 1,000,000 units, got " + huge in cli(url, "rewards", "restock", "mug", huge, code=1)
    assert "mug: stock ∞" in cli(url, "rewards", "restock", "mug", "1000000")  # unlimited stays so
    refused = cli(url, "rewards", "restock", "early-finish_2", "11", code=1)
    assert (
        "early-finish_2 has 999,990 in stock: adding 11 would take it past the most an item holds, 1,000,000"
        in (" ".join(refused.split()))
    )
    assert "early-finish_2: stock 1000000" in cli(url, "rewards", "restock", "early-finish_2", "10")
    listed = cli(url, "rewards", "list")
    assert "Bad" not in listed and "1000000" in listed


def test_the_program_files_items_have_the_same_bounds(tmp_path: Path) -> None:
    program = tmp_path / "program.yaml"
    program.write_text(
        "rewards:\n  - {id: mug, name: Mug, price: 10000001, stock: 1000001}\n"
        "  - {id: Bad Id!, name: Bad, price: 5}\n",
        encoding="utf-8",
    )
    lines = cli(f"sqlite:///{tmp_path / 'unused.db'}", "config", "check", str(program), code=1).splitlines()
    assert lines == [
        f"{program}:2: rewards.0.price: Input should be less than or equal to 10000000",
        f"{program}:2: rewards.0.stock: Input should be less than or equal to 1000000",
        f"{program}:3: rewards.1.id: 'Bad Id!' must be a lower-case word: letters, digits, '-' or '_' (e.g. "
        "'teamwork')",
        f"error: {program}: 3 problems",
    ]
