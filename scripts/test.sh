#!/usr/bin/env bash
# Set up a virtualenv with everything the tests need, then lint and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
.venv/bin/ruff check bot tests bench migrations
.venv/bin/ruff format --check bot tests bench migrations
.venv/bin/mypy bot
.venv/bin/python -m pytest -q "$@"
