"""`GET /healthz`: the process answers and its database is reachable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from bot.app import Floorboard


def router(fb: Floorboard) -> APIRouter:
    api = APIRouter(tags=["operations"])

    @api.get("/healthz", responses={503: {"description": "the database does not answer"}})
    def healthz() -> JSONResponse:
        """200 `{"status": "ok"}` when the database answers; 503 otherwise (for load balancers)."""
        try:
            with fb.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            detail = type(error).__name__
            return JSONResponse({"status": "unavailable", "detail": detail}, status_code=503)
        return JSONResponse({"status": "ok"})

    return api
