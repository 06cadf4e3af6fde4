"""Floorboard: gamification for contact centers."""

from pathlib import Path

__version__ = "0.1.0"


def migrations_dir() -> Path:
    """The Alembic scripts, kept at the top of the repository beside the package."""
    return Path(__file__).resolve().parent.parent / "migrations"
