"""Every refusal code the challenge, rewards and kudos services raise has its sentence in the catalogue,
and so does every value their replies pick a sentence by."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.handlers.contract import ParamKind
from bot.messages import has
from bot.services.challenges import GOALS, KINDS

BOT = Path(__file__).resolve().parents[2] / "bot"
_RAISED = re.compile(r'(\w+)Refused\(\s*"([a-z_]+)"')
_FAMILY = {"Challenge": "challenge.refused", "Reward": "rewards.refused", "Kudos": "kudos.refused"}


@pytest.mark.parametrize("module", ["services/challenges.py", "services/rewards.py", "services/kudos.py"])
def test_every_raised_refusal_has_a_sentence(module: str) -> None:
    source = (BOT / module).read_text(encoding="utf-8")
    codes = {(_FAMILY[kind], code) for kind, code in _RAISED.findall(source)}
    assert len(codes) >= 3
    assert [f"{family}.{code}" for family, code in sorted(codes) if not has(f"{family}.{code}")] == []


def test_families_picked_by_value_are_complete() -> None:
    wanted = (
        [f"challenge.kind.{k}" for k in KINDS]
        + [f"challenge.goal.{g}" for g in GOALS]
        + [f"challenge.scope.{s}" for s in ("team", "league", "agents", "opt-in")]
        + [f"challenge.results.outcome.{o}" for o in ("won", "finished", "void", "unranked")]
        + [f"challenge.status.note.{n}" for n in ("met", "void", "too_few", "no_baseline")]
        + [f"rewards.status.{s}" for s in ("pending", "fulfilled", "rejected")]
        + [f"rewards.decided_dm.{s}" for s in ("fulfilled", "rejected")]
        + [f"parse.expect.{kind.value}" for kind in ParamKind if kind is not ParamKind.CHOICE]
    )
    assert [message_id for message_id in wanted if not has(message_id)] == []
