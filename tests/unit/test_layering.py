"""The dependency rule of DESIGN.md §3: the core never imports a chat platform SDK."""

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"
PLATFORM_SDKS = ("slack_bolt", "slack_sdk", "discord")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(package: str) -> list[Path]:
    return sorted((BOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["scoring", "services", "handlers", "store", "feeds"])
def test_core_never_imports_a_platform_sdk(package):
    offenders = {
        str(path.relative_to(BOT)): sorted(
            name for name in _imports(path) if name.split(".")[0] in PLATFORM_SDKS
        )
        for path in _modules(package)
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_scoring_imports_nothing_of_the_project():
    offenders = {
        str(path.relative_to(BOT)): sorted(
            name for name in _imports(path) if name.startswith("bot.") and not name.startswith("bot.scoring")
        )
        for path in _modules("scoring")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_handlers_do_not_reach_into_adapters_or_web():
    offenders = {
        str(path.relative_to(BOT)): sorted(
            name for name in _imports(path) if name.startswith(("bot.adapters", "bot.web", "bot.terminal"))
        )
        for path in _modules("handlers")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
