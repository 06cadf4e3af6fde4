"""Handler actions as Discord buttons: custom ids that carry command and arguments, within Discord's
limits of 5 buttons a row, 5 rows and 100 characters an id."""

from __future__ import annotations

from bot.adapters.discord.actions import Pressed, action_view
from bot.adapters.discord.paging import PageState, pager
from bot.handlers.commands import default_registry
from bot.handlers.contract import Action, PersonRef


def rows(view) -> list[list[str]]:
    grid: dict[int, list[str]] = {}
    for row in view.to_components():
        grid[len(grid)] = [button["custom_id"] for button in row["components"]]
    return list(grid.values())


async def test_actions_fill_rows_of_five_and_stop_at_twenty_five():
    actions = [Action(f"#{n}", "approve", {"id": n}) for n in range(30)]
    view = action_view(actions)
    grid = rows(view)
    assert [len(row) for row in grid] == [5, 5, 5, 5, 5]
    assert grid[0][0] == "fb:act:approve:id=0" and grid[4][4] == "fb:act:approve:id=24"


async def test_paging_keeps_its_own_row_above_the_actions():
    paging = pager(PageState("leaderboard", "csat,day,,,,full", 0, 0), 3, "◀", "▶")
    view = action_view([Action("Join", "challenge join", {"name": "Talk sprint, 2021"})], paging)
    grid = rows(view)
    assert grid == [
        ["fb:pg:1:0:leaderboard:csat,day,,,,full"],
        ["fb:act:challenge.join:name=Talk%20sprint%2C%202021"],
    ]


async def test_an_id_over_100_characters_is_left_out():
    view = action_view([Action("Too long", "reject", {"id": 1, "reason": "x" * 100})])
    assert view is None


def test_arguments_come_back_typed_by_the_commands_params():
    registry = default_registry()
    pressed = Pressed.of(
        Action("Adjust", "adjust", {"who": PersonRef(7, "Jim"), "points": -2.5, "reason": "a,b=c"})
    )
    decoded = pressed.decode(registry.commands["adjust"], {7: "Jim Park"})
    assert decoded == {"who": PersonRef(7, "Jim Park"), "points": -2.5, "reason": "a,b=c"}
    link = Pressed("link", "decision=approve,key=12,gone=1").decode(registry.commands["link"], {})
    assert link == {"decision": "approve", "key": "12"}  # an argument the command no longer takes is dropped
