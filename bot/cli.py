"""`floorboard`: the command line (Typer). Each group of commands lives in bot/terminal/."""

from __future__ import annotations

import importlib
import logging

import typer

GROUPS = (
    "database",
    "feeds",
    "roster",
    "boards",
    "teams",
    "explain",
    "scoring",
    "config",
    "chat",
    "server",
    "posts",
    "store",
    "slack",
)


def build_cli() -> typer.Typer:
    app = typer.Typer(
        name="floorboard",
        help="Floorboard: fair, explainable gamification for contact centers.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    for group in GROUPS:
        module = importlib.import_module(f"bot.terminal.{group}")
        module.register(app)
    return app


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    build_cli()()
