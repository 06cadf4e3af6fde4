#!/usr/bin/env bash
# Set up a virtualenv and run the demo: a simulated contact-center day through the real webhook, on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
.venv/bin/floorboard demo "$@"
