"""`GET /api/v1/leaderboard`: the full board as JSON, the same shape as `floorboard leaderboard --json`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query
from pydantic import BaseModel, Field

from bot.scoring.periods import Period, business_day
from bot.services.board_json import board_to_json, queue_board_to_json
from bot.services.leaderboard import UnknownBoard, board, is_queue_only, queue_board
from bot.web.auth import Unauthorized, bearer_source
from bot.web.schemas import Problem

if TYPE_CHECKING:
    from bot.app import Floorboard


class PeriodOut(BaseModel):
    start: date = Field(description="first business day, inclusive")
    end: date = Field(description="last business day, inclusive")


class EntryOut(BaseModel):
    rank: int = Field(description="competition rank: ties share a rank (1, 1, 3)")
    agent: str
    agent_id: int
    value: float = Field(description="the metric's value (points, seconds, fraction or score)")
    samples: int = Field(description="contacts, surveys or scored days behind the value")
    rank_value: float = Field(
        description="the value the rank is computed from: the value itself, or its Bayesian average"
    )
    method: str = Field(
        description="how rank_value was computed: raw, or bayesian(prior_weight=…, prior_mean=…)"
    )


class UnrankedOut(BaseModel):
    agent: str
    agent_id: int
    value: float | None
    samples: int = Field(description="below the metric's min_samples, so not ranked")


class BoardOut(BaseModel):
    metric: str
    period: PeriodOut
    as_of: str | None = Field(description="when the newest import finished (ISO 8601 with its offset)")
    entries: list[EntryOut]
    unranked: list[UnrankedOut]


class OrgOut(BaseModel):
    value: float | None = Field(description="Σ numerators / Σ denominators over every agent and queue")
    samples: int = Field(description="offered contacts behind the value")


class QueueOut(BaseModel):
    queue: str = Field(description="source/key of the queue")
    abandoned: int = Field(description="contacts abandoned on this queue in the period")


class QueueBoardOut(BaseModel):
    """A queue metric: the center-wide figure; per queue only abandons (answers count on agents)."""

    metric: str
    period: PeriodOut
    as_of: str | None = Field(description="when the newest import finished (ISO 8601 with its offset)")
    org: OrgOut
    queues: list[QueueOut]


def router(fb: Floorboard) -> APIRouter:
    api = APIRouter(tags=["boards"])

    @api.get(
        "/api/v1/leaderboard",
        response_model=BoardOut | QueueBoardOut,
        responses={400: {"model": Problem}, 401: {"model": Problem}},
        openapi_extra={"security": [{"bearer": []}]},
    )
    def get_leaderboard(
        authorization: Annotated[str | None, Header()] = None,
        metric: Annotated[str | None, Query(description="points or a metric key; default: program's")] = None,
        period: Annotated[Period | None, Query(description="default: the program's")] = None,
        at: Annotated[date | None, Query(description="a day in the period; default: today")] = None,
        team: Annotated[str | None, Query(description="team key or name; default: everyone")] = None,
        queues: Annotated[
            bool,
            Query(description="the center-wide figure and abandons per queue (abandon_rate, service_level)"),
        ] = False,
    ) -> dict[str, Any]:
        """The full board (every agent, the admin view); needs any API token.

        A queue metric (abandon_rate), or `queues=true`, gives the center-wide figure and the abandons of
        each queue instead (QueueBoardOut): agents take only answered contacts, so they are not ranked on it.
        """
        try:
            bearer_source(authorization, fb.settings.api_tokens)
        except Unauthorized as error:
            raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from None
        policy = fb.program.leaderboard
        day = at or business_day(fb.clock(), fb.program.zone, fb.program.day_start_minutes)
        chosen_metric = metric or policy.default_metric
        chosen_period = period or Period(policy.default_period)
        try:
            with fb.engine.connect() as connection:
                if queues or is_queue_only(chosen_metric):
                    if team is not None:
                        raise UnknownBoard("the center-wide figure covers every team; leave out team")
                    center = queue_board(
                        connection, fb.program, metric=chosen_metric, period=chosen_period, at=day
                    )
                    return queue_board_to_json(center)
                result = board(
                    connection, fb.program, metric=chosen_metric, period=chosen_period, at=day, team=team
                )
        except UnknownBoard as error:
            raise HTTPException(400, str(error)) from None
        return board_to_json(result)

    return api
