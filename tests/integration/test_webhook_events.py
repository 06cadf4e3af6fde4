"""POST /api/v1/events through the FastAPI app: statuses per item, idempotency, versions, voids, errors."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from statistics import mean
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.app import Floorboard
from bot.store.models import ImportBatch, KpiRecordRow
from bot.web.app import create_web_app
from tests.conftest import make_app

TOKEN = "acd-token-0123456789abcdef"
CRM_TOKEN = "crm-token-0123456789abcdef"
TOKENS = {TOKEN: "acd", CRM_TOKEN: "crm"}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def contact(
    external_id: str,
    agent: str = "ana",
    *,
    version: int = 1,
    talk: float = 200,
    hold: float = 0,
    acw: float = 30,
    wait: float = 10,
    rating: float | None = None,
    resolved: bool = True,
    source: str = "acd",
    when: str = "2021-04-01T10:00:00Z",
) -> dict[str, Any]:
    return {
        "source": source,
        "external_id": external_id,
        "version": version,
        "subject": {"kind": "agent", "key": agent, "name": agent.title()},
        "occurred_at": when,
        "facts": {
            "answered": True,
            "abandoned": False,
            "resolved": resolved,
            "wait": wait,
            "talk": talk,
            "hold": hold,
            "acw": acw,
            "rating": rating,
        },
    }


def abandon(external_id: str, queue: str = "billing", wait: float = 75) -> dict[str, Any]:
    return {
        "source": "acd",
        "external_id": external_id,
        "subject": {"kind": "queue", "key": queue},
        "occurred_at": "2021-04-01T11:00:00+02:00",
        "facts": {"answered": False, "abandoned": True, "wait": wait},
    }


def post(
    client: TestClient,
    records: list[dict[str, Any]],
    *,
    create: bool | None = True,
    headers: dict[str, str] | None = None,
) -> Any:
    body: dict[str, Any] = {"records": records}
    if create is not None:
        body["create_unknown_agents"] = create
    return client.post("/api/v1/events", json=body, headers=AUTH if headers is None else headers)


def values(client: TestClient, metric: str, period: str = "day") -> dict[str, float | None]:
    """Each agent's value on the board; agents left with no samples (all retracted) are left out."""
    response = client.get(
        "/api/v1/leaderboard", params={"metric": metric, "period": period, "at": "2021-04-01"}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    data = response.json()
    return {row["agent"]: row["value"] for row in data["entries"] + data["unranked"] if row["samples"]}


def statuses(response: Any) -> list[str]:
    return [item["status"] for item in response.json()["items"]]


@pytest.fixture
def web(app: Floorboard) -> Iterator[TestClient]:
    app.settings = app.settings.model_copy(update={"api_tokens": TOKENS})
    with TestClient(create_web_app(app)) as client:
        yield client


@pytest.fixture
def any_web(any_app: Floorboard) -> Iterator[TestClient]:
    fb = dataclasses.replace(any_app, settings=any_app.settings.model_copy(update={"api_tokens": TOKENS}))
    with TestClient(create_web_app(fb)) as client:
        yield client


def test_a_batch_is_answered_item_by_item_and_scored_on_both_backends(any_web: TestClient) -> None:
    ana = [
        contact("c1", talk=100, acw=20, rating=5),
        contact("c2", talk=250, hold=40, acw=10),
        contact("c3", talk=310, acw=35, rating=3, resolved=False),
    ]
    ben = [contact("c4", "ben", talk=180, acw=15, rating=4), contact("c5", "ben", talk=220, acw=25, rating=4)]
    batch = [*ana, *ben, abandon("c6")]

    response = post(any_web, batch)

    assert response.status_code == 202, response.text
    result = response.json()
    assert statuses(response) == ["accepted"] * 6
    assert [item["index"] for item in result["items"]] == list(range(6))
    assert [item["external_id"] for item in result["items"]] == [f"c{i}" for i in range(1, 7)]
    assert result["counts"] == {"received": 6, "accepted": 6, "duplicate": 0, "parked": 0, "rejected": 0}

    def handle(c: dict[str, Any]) -> float:
        return c["facts"]["talk"] + c["facts"]["hold"] + c["facts"]["acw"]

    aht = values(any_web, "aht")
    assert aht["Ana"] == pytest.approx(mean(handle(c) for c in ana))
    assert aht["Ben"] == pytest.approx(mean(handle(c) for c in ben))
    assert values(any_web, "csat") == pytest.approx({"Ana": 4.0, "Ben": 4.0})
    assert values(any_web, "fcr")["Ana"] == pytest.approx(2 / 3)
    assert values(any_web, "handled") == {"Ana": 3, "Ben": 2}

    again = post(any_web, batch)

    assert again.status_code == 202
    assert again.json()["batch_id"] != result["batch_id"]
    assert statuses(again) == ["duplicate"] * 6
    assert again.json()["counts"]["duplicate"] == 6
    assert values(any_web, "aht")["Ana"] == pytest.approx(mean(handle(c) for c in ana))
    assert values(any_web, "handled") == {"Ana": 3, "Ben": 2}


def test_unknown_agents_are_parked_unless_the_batch_or_program_creates_them(web: TestClient) -> None:
    parked = post(web, [contact("p1", "zoe")], create=None)

    assert statuses(parked) == ["parked"]
    assert "zoe" in parked.json()["items"][0]["reason"]
    assert values(web, "handled") == {}

    created = post(web, [contact("p2", "zoe")], create=True)

    assert statuses(created) == ["accepted"]
    assert values(web, "handled") == {"Zoe": 1}


def test_a_higher_version_replaces_a_lower_one_is_kept_without_effect_and_a_void_retracts(
    web: TestClient,
) -> None:
    assert statuses(post(web, [contact("v", talk=100, acw=0)])) == ["accepted"]
    assert values(web, "aht") == {"Ana": 100}

    assert statuses(post(web, [contact("v", version=3, talk=300, acw=0)])) == ["accepted"]
    assert values(web, "aht") == {"Ana": 300}
    assert values(web, "handled") == {"Ana": 1}

    older = post(web, [contact("v", version=2, talk=500, acw=0)])
    assert statuses(older) == ["accepted"]
    assert "older than current version 3" in older.json()["items"][0]["reason"]
    assert values(web, "aht") == {"Ana": 300}

    void = {**contact("v", version=4), "void": True}
    del void["facts"]
    assert statuses(post(web, [void])) == ["accepted"]
    assert values(web, "aht") == {}
    assert values(web, "handled") == {}


def test_one_bad_item_is_rejected_with_a_reason_naming_its_field_and_the_rest_import(web: TestClient) -> None:
    naive = contact("bad-time", when="2021-04-01T10:00:00")
    unknown_fact = contact("bad-fact")
    unknown_fact["facts"]["talk_seconds"] = 12
    unknown_metric = {**contact("bad-metric"), "metrics": {"happiness": {"num": 1, "den": 1}}}
    wrong_type = contact("bad-type")
    wrong_type["facts"]["answered"] = "yes"
    batch = [
        contact("ok-1"),
        naive,
        unknown_fact,
        unknown_metric,
        wrong_type,
        "not a record",
        contact("ok-2"),
    ]

    response = post(web, batch)

    assert response.status_code == 202
    items = response.json()["items"]
    assert [i["status"] for i in items] == ["accepted", *["rejected"] * 5, "accepted"]
    reasons = [i["reason"] for i in items]
    assert reasons[1].startswith("occurred_at:") and "offset" in reasons[1]
    assert reasons[2].startswith("facts.talk_seconds:") and "unknown fact" in reasons[2]
    assert reasons[3].startswith("metrics.happiness:") and "unknown metric" in reasons[3]
    assert reasons[4].startswith("facts.answered:")
    assert reasons[5].startswith("record:")
    assert items[5]["external_id"] is None
    assert response.json()["counts"] == {
        "received": 7,
        "accepted": 2,
        "duplicate": 0,
        "parked": 0,
        "rejected": 5,
    }
    assert values(web, "handled") == {"Ana": 2}


def test_pre_aggregated_metrics_are_accepted(web: TestClient) -> None:
    record = {
        **contact("agg"),
        "metrics": {"aht": {"num": 3600, "den": 12}, "handled": {"num": 12, "den": 1}},
    }
    del record["facts"]

    assert statuses(post(web, [record])) == ["accepted"]
    assert values(web, "aht") == {"Ana": 300}
    assert values(web, "handled") == {"Ana": 12}


def test_a_token_is_bound_to_its_source(web: TestClient) -> None:
    response = post(web, [contact("mine"), contact("theirs", source="crm")])

    assert statuses(response) == ["accepted", "rejected"]
    reason = response.json()["items"][1]["reason"]
    assert reason.startswith("source:") and "'crm'" in reason and "'acd'" in reason

    crm = post(web, [contact("theirs", source="crm")], headers={"Authorization": f"Bearer {CRM_TOKEN}"})
    assert statuses(crm) == ["accepted"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-known-token-at-all"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer "},
    ],
    ids=["none", "unknown", "not-bearer", "empty"],
)
def test_requests_without_valid_credentials_get_401(web: TestClient, headers: dict[str, str]) -> None:
    response = post(web, [contact("x")], headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"]
    assert values(web, "handled") == {}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "JSON object"),
        (b'{"events": []}', "records"),
        (b'{"records": {"a": 1}}', "must be a list"),
        (b'{"records": [], "create_unknown_agents": "yes"}', "create_unknown_agents"),
        (b"\xff\xfe\x00", "not JSON"),
    ],
    ids=["not-json", "array", "no-records", "records-not-list", "bad-flag", "not-utf8"],
)
def test_a_body_that_is_not_a_batch_envelope_gets_422(web: TestClient, body: bytes, fragment: str) -> None:
    response = web.post("/api/v1/events", content=body, headers=AUTH | {"Content-Type": "application/json"})

    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_an_empty_batch_is_accepted_and_stores_no_batch(web: TestClient, app: Floorboard) -> None:
    response = post(web, [])

    assert response.status_code == 202
    assert response.json() == {
        "batch_id": None,
        "counts": {"received": 0, "accepted": 0, "duplicate": 0, "parked": 0, "rejected": 0},
        "items": [],
    }
    with app.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_a_void_without_subject_or_time_takes_them_from_the_stored_record(
    any_web: TestClient, any_app: Floorboard
) -> None:
    assert (
        statuses(post(any_web, [contact("a1", talk=100, acw=0), contact("a2", "ben"), abandon("q1")]))
        == ["accepted"] * 3
    )
    assert values(any_web, "handled") == {"Ana": 1, "Ben": 1}

    voids = [
        {"source": "acd", "external_id": "a1", "version": 3, "void": True},
        {"source": "acd", "external_id": "q1", "version": 2, "void": True},
    ]
    response = post(any_web, voids)

    assert response.json()["counts"] == {
        "received": 2,
        "accepted": 2,
        "duplicate": 0,
        "parked": 0,
        "rejected": 0,
    }
    assert values(any_web, "handled") == {"Ben": 1}
    with any_app.engine.connect() as connection:
        stored = connection.execute(
            select(
                KpiRecordRow.external_id, KpiRecordRow.subject_id, KpiRecordRow.occurred_at, KpiRecordRow.void
            )
            .where(KpiRecordRow.is_current.is_(True), KpiRecordRow.external_id.in_(["a1", "q1"]))
            .order_by(KpiRecordRow.external_id)
        ).all()
        originals = dict(
            connection.execute(
                select(KpiRecordRow.external_id, KpiRecordRow.subject_id).where(KpiRecordRow.version == 1)
            ).all()
        )
    assert [(row.external_id, row.void) for row in stored] == [("a1", True), ("q1", True)]
    assert [row.subject_id for row in stored] == [originals["a1"], originals["q1"]]
    instants = [
        row.occurred_at if row.occurred_at.tzinfo else row.occurred_at.replace(tzinfo=UTC) for row in stored
    ]
    assert instants == [datetime(2021, 4, 1, 10, 0, tzinfo=UTC), datetime(2021, 4, 1, 9, 0, tzinfo=UTC)]
    again = post(any_web, voids)
    assert statuses(again) == ["duplicate", "duplicate"]


def test_a_void_of_an_id_never_stored_is_rejected(web: TestClient) -> None:
    response = post(web, [{"source": "acd", "external_id": "ghost", "version": 2, "void": True}])

    assert response.json()["items"] == [
        {
            "index": 0,
            "external_id": "ghost",
            "status": "rejected",
            "reason": "nothing to void: no stored record for source 'acd', external_id 'ghost'; "
            "send subject and occurred_at to void it anyway",
        }
    ]


def test_impossible_values_are_rejected_naming_the_field(web: TestClient) -> None:
    bad_rating = contact("x1", rating=-1)
    huge_talk = contact("x2", talk=1e12)
    response = post(web, [bad_rating, huge_talk, contact("x3", talk=604_800, acw=0, hold=0)])

    assert [(item["status"], item["reason"]) for item in response.json()["items"]] == [
        ("rejected", "facts.rating: must be 0 or more, got -1"),
        ("rejected", "facts.talk: 1000000000000.0 seconds is more than 7 days (604,800 seconds)"),
        ("accepted", None),
    ]
    assert values(web, "aht") == {"Ana": 604_800}


def test_too_many_records_get_413(sqlite_url: str) -> None:
    fb = make_app(sqlite_url, api_tokens=TOKENS, max_batch_records=3)
    with TestClient(create_web_app(fb)) as client:
        assert post(client, [contact(f"c{i}") for i in range(3)]).status_code == 202
        response = post(client, [contact(f"d{i}") for i in range(4)])
        assert response.status_code == 413
        assert "at most 3" in response.json()["detail"]
        assert values(client, "handled") == {"Ana": 3}
    fb.close()


def test_an_oversized_body_gets_413_by_header_and_by_actual_size(sqlite_url: str) -> None:
    fb = make_app(sqlite_url, api_tokens=TOKENS, max_body_bytes=2048)
    records = [contact(f"c{i}") for i in range(12)]
    body = json.dumps({"records": records, "create_unknown_agents": True}).encode()
    assert len(body) > 2048
    with TestClient(create_web_app(fb)) as client:
        declared = client.post("/api/v1/events", content=body, headers=AUTH)
        assert declared.status_code == 413
        assert "2048" in declared.json()["detail"]

        chunked = client.post("/api/v1/events", content=iter([body[:1500], body[1500:]]), headers=AUTH)
        assert "content-length" not in chunked.request.headers
        assert chunked.status_code == 413

        assert post(client, records[:2]).status_code == 202
    fb.close()


def test_openapi_documents_every_field_of_the_batch(web: TestClient) -> None:
    spec = web.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    operation = spec["paths"]["/api/v1/events"]["post"]

    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/EventBatch")
    assert set(operation["responses"]) >= {"202", "401", "413", "422"}
    for name in (
        "EventBatch",
        "EventRecord",
        "Subject",
        "Facts",
        "Metrics",
        "MetricPair",
        "ItemResult",
        "BatchCounts",
        "BatchResult",
    ):
        for field, schema in schemas[name]["properties"].items():
            assert schema.get("description"), f"{name}.{field} is undocumented"
    assert "rating" in schemas["Facts"]["properties"]
    assert "csat" in schemas["Metrics"]["properties"]
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "signature", "timestamp"}
    assert web.get("/docs").status_code == 200


def test_healthz_answers_ok_and_503_when_the_database_is_gone(app: Floorboard, tmp_path: Any) -> None:
    from sqlalchemy import create_engine

    with TestClient(create_web_app(app)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
    missing = create_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    with TestClient(create_web_app(dataclasses.replace(app, engine=missing))) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_leaderboard_json_matches_the_board_and_needs_a_token(web: TestClient) -> None:
    post(
        web,
        [contact(f"a{i}", rating=5) for i in range(5)]
        + [contact(f"b{i}", "ben", rating=4) for i in range(5)]
        + [contact("c0", "cy", rating=5)],
    )

    assert web.get("/api/v1/leaderboard").status_code == 401
    response = web.get(
        "/api/v1/leaderboard", params={"metric": "csat", "period": "day", "at": "2021-04-01"}, headers=AUTH
    )
    data = response.json()

    assert data["metric"] == "csat"
    assert data["period"] == {"start": "2021-04-01", "end": "2021-04-01"}
    assert data["as_of"].startswith("2021-04-01T12:00:00")
    assert [(e["rank"], e["agent"], e["value"], e["samples"]) for e in data["entries"]] == [
        (1, "Ana", 5.0, 5),
        (2, "Ben", 4.0, 5),
    ]
    assert [(u["agent"], u["value"], u["samples"]) for u in data["unranked"]] == [("Cy", 5.0, 1)]
    assert all(isinstance(e["agent_id"], int) for e in data["entries"] + data["unranked"])

    week = web.get(
        "/api/v1/leaderboard", params={"metric": "csat", "at": "2021-04-01", "period": "week"}, headers=AUTH
    ).json()
    assert week["period"] == {"start": "2021-03-29", "end": "2021-04-04"}

    unknown = web.get("/api/v1/leaderboard", params={"metric": "happiness"}, headers=AUTH)
    assert unknown.status_code == 400
    assert "csat" in unknown.json()["detail"]
    no_team = web.get("/api/v1/leaderboard", params={"team": "nights"}, headers=AUTH)
    assert no_team.status_code == 400
    assert "nights" in no_team.json()["detail"]


def test_values_past_any_scale_or_date_are_rejected_alone(web: TestClient) -> None:
    """Each of these once failed its whole batch with a 500 (an overflow in SQLite or in the date)."""
    far_future = contact("y1", when="9999-12-31T23:59:59-12:00")
    huge_rating = contact("y2", rating=1e300)
    huge_metric = {
        "source": "acd",
        "external_id": "y3",
        "subject": {"kind": "agent", "key": "ana"},
        "occurred_at": "2021-04-01T10:00:00Z",
        "metrics": {"aht": {"num": 1e300, "den": 1}},
    }
    response = post(web, [far_future, huge_rating, huge_metric, contact("y4", rating=5)])

    assert response.status_code == 202
    assert [(item["status"], item["reason"]) for item in response.json()["items"]] == [
        ("rejected", "occurred_at: 9999-12-31T23:59:59-12:00 is outside 1970-2200"),
        ("rejected", "facts.rating: 1e+300 is more than 1000, on the survey scale"),
        ("rejected", "metrics.aht: 1e+300 over 1 is beyond 1e+12"),
        ("accepted", None),
    ]
    assert values(web, "csat") == {"Ana": 5}


def _metrics(external_id: str, agent: str = "martha", **pairs: tuple[float, float]) -> dict[str, Any]:
    return {
        "source": "acd",
        "external_id": external_id,
        "subject": {"kind": "agent", "key": agent, "name": agent.title()},
        "occurred_at": "2021-04-01T10:00:00Z",
        "metrics": {key: {"num": num, "den": den} for key, (num, den) in pairs.items()},
    }


def test_impossible_metric_pairs_are_rejected_alone_naming_item_and_field(web: TestClient) -> None:
    """A negative sum, a sum over no samples and a mean past the metric's scale once reached the boards
    (a CSAT of -710.86 from {num: -5000, den: 0})."""
    batch = [
        contact("m0", "martha", rating=4),
        _metrics("m1", csat=(-5000, 0)),
        _metrics("m2", csat=(9, 0)),
        _metrics("m3", csat=(9000, 3)),
        _metrics("m4", fcr=(6, 5)),
        _metrics("m5", aht=(-30, 1)),
        _metrics("m6", nps=(-3, 2)),
        _metrics("m7", handled=(-2, 1)),
        _metrics("m8", csat=(14, 3), nps=(-1, 4), fcr=(3, 4)),
    ]

    response = post(web, batch)

    assert response.status_code == 202
    assert [(item["external_id"], item["status"], item["reason"]) for item in response.json()["items"]] == [
        ("m0", "accepted", None),
        ("m1", "rejected", "metrics.csat.num: must be 0 or more, got -5000"),
        ("m2", "rejected", "metrics.csat: 9 over 0 has no samples; give den, the count it is over"),
        ("m3", "rejected", "metrics.csat: the mean 9000 / 3 = 3000 is outside the survey scale, 0 to 1000"),
        ("m4", "rejected", "metrics.fcr: the mean 6 / 5 = 1.2 is outside 0 to 1"),
        ("m5", "rejected", "metrics.aht.num: must be 0 or more, got -30"),
        (
            "m6",
            "rejected",
            "metrics.nps: the mean -3 / 2 = -1.5 is outside -1 (all detractors) to 1 (all promoters)",
        ),
        ("m7", "rejected", "metrics.handled.num: must be 0 or more, got -2"),
        ("m8", "accepted", None),
    ]
    assert response.json()["counts"]["rejected"] == 7
    assert values(web, "csat") == {"Martha": 4.5}  # (4 + 14) / (1 + 3)
    assert values(web, "fcr") == {"Martha": 0.8}  # (1 + 3) / (1 + 4)


@pytest.mark.parametrize("chunked", [False, True], ids=["one-batch", "two-batches"])
def test_a_void_after_its_create_in_the_same_batch_applies_in_order(
    any_web: TestClient, chunked: bool
) -> None:
    create = contact("w1", rating=2)
    void = {"source": "acd", "external_id": "w1", "version": 2, "void": True}
    keep = contact("w2", "ben", rating=5)

    if chunked:
        responses = [post(any_web, [create]), post(any_web, [void, keep])]
        outcomes = [item for response in responses for item in response.json()["items"]]
    else:
        outcomes = post(any_web, [create, void, keep]).json()["items"]

    assert [(item["external_id"], item["status"], item["reason"]) for item in outcomes] == [
        ("w1", "accepted", None),
        ("w1", "accepted", None),
        ("w2", "accepted", None),
    ]
    assert values(any_web, "csat") == {"Ben": 5}
    again = post(any_web, [create, void])
    assert statuses(again) == ["duplicate", "duplicate"]
