"""A key of organisation B gets 404 for every resource of organisation A, on every route of the app.

The routes come from the app's own route table: a new route with an id in its path is tried with A's id
(a path parameter this test does not know fails it), and a new route without one must be placed in one
of the lists below, which say how it stays inside the caller's organisation.
"""

import uuid
from typing import Any

import httpx
from antifragile_api.app import create_app
from fastapi.routing import APIRoute, iter_route_contexts

from .conftest import Api, process

PLAN = b"Cold-chain expansion\n\nNorthwind opens three refrigerated depots in the Baltic states by 2027."

CREATES_IN_CALLERS_ORG = {
    ("POST", "/v1/uploads"),
    ("POST", "/v1/catchball"),
    ("POST", "/v1/wisdom"),
    ("POST", "/v1/research"),
    ("POST", "/v1/training/jobs"),
}
"""Routes that create something: the organisation is the key's, and the body cannot name another."""

LISTS_CALLERS_ORG = {
    ("GET", "/v1/documents"),
    ("GET", "/v1/training/jobs"),
    ("GET", "/v1/costs"),
    ("GET", "/portal/documents"),
}
"""Routes that list: checked below to show B nothing of A's."""

TAKES_IDS_IN_BODY = {("POST", "/v1/batches")}
"""Routes given A's ids in the body: checked below to answer 404."""

PARTICIPANT_ROUTES = "/v1/participant/", "/p/"
"""Authorised by a signed link rather than a key: see test_participants."""

BODIES: dict[str, dict[str, Any]] = {
    "ModelFeedbackBody": {"feedback_id": "fb-1", "prompt": "Our plan?", "response": "Depots.", "rating": 5},
}
"""A valid body per body model of a route with ids in its path, so 404 is not hidden behind a 422."""


async def test_another_organisations_key_gets_404_for_every_resource(api: Api) -> None:
    org_a, org_b = f"org-a{uuid.uuid4().hex[:8]}", f"org-b{uuid.uuid4().hex[:8]}"
    async with api.http(await api.key(org_a)) as a, api.http(await api.key(org_b)) as b:
        ids = await _resources_of(a)

        for method, path, body_model in _routes(api):
            if "{" not in path:
                known = CREATES_IN_CALLERS_ORG | LISTS_CALLERS_ORG | TAKES_IDS_IN_BODY
                assert (method, path) in known, f"{method} {path}: say how it stays in the caller's org"
                continue
            url = path.format(**{name: _id_for(ids, path, name) for name in _params(path)})
            body = BODIES[body_model] if body_model else None
            response = await b.request(method, url, json=body)
            assert response.status_code == 404, f"{method} {url} answered org B {response.status_code}"
            assert (await a.request(method, url, json=body)).status_code < 400, f"{method} {url} for A"

        refused = await b.post("/v1/batches", json={"upload_ids": [ids["upload_id"]]})
        assert refused.status_code == 404
        assert (await b.get("/v1/documents")).json()["total"] == 0
        assert "plan.md" not in (await b.get("/portal/documents")).text
        assert "plan.md" in (await a.get("/portal/documents")).text
        assert (await b.get("/v1/training/jobs")).json()["jobs"] == []
        assert (await b.get("/v1/costs")).json()["lines"] == []
        assert (await a.get("/v1/documents")).json()["total"] == 1
        assert (await a.get("/v1/costs")).json()["lines"], "A's batch called the LLM"
        question = {"question": "Where are the refrigerated depots?"}
        answer = await a.post("/v1/research", json=question)
        assert answer.status_code == 200, answer.text
        assert {c["filename"] for c in answer.json()["citations"]} <= {"plan.md"}
        assert (await b.post("/v1/research", json=question)).status_code == 404, "B has no documents"


def _routes(api: Api) -> list[tuple[str, str, str | None]]:
    found = []
    for route in iter_route_contexts(create_app(api.settings).routes):
        original, path = route.original_route, route.path or ""
        if not isinstance(original, APIRoute) or path.startswith(PARTICIPANT_ROUTES):
            continue
        if not path.startswith(("/v1/", "/portal/")):
            assert "{" not in path, f"{path}: an id outside /v1 and /portal"
            continue
        body = original.body_field.field_info.annotation.__name__ if original.body_field else None
        found += [(method, path, body) for method in sorted(route.methods or ())]
    assert len(found) >= 15, found
    return found


def _params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _id_for(ids: dict[str, str], path: str, name: str) -> str:
    if name == "session_id":
        return ids["catchball_id" if "/catchball/" in path else "wisdom_id"]
    return ids[name]


async def _resources_of(a: httpx.AsyncClient) -> dict[str, str]:
    """One of each kind of resource in organisation A, with its id."""
    view = await process(a, [("plan.md", PLAN)])
    [outcome] = view["outcomes"]
    assert outcome["status"] == "done", outcome
    participants = [{"name": "Ana", "level": "ceo"}]
    catchball = await a.post("/v1/catchball", json={"statement": "We grow.", "participants": participants})
    wisdom = await a.post(
        "/v1/wisdom", json={"question": "Where next?", "participants": ["Ana"], "quorum": 2}
    )
    job = await a.post("/v1/training/jobs", json={"request_id": "first-job"})
    assert job.status_code == 202, job.text
    return {
        "upload_id": await _staged_upload(a),
        "batch_id": view["batch_id"],
        "document_id": outcome["document_id"],
        "catchball_id": catchball.json()["session_id"],
        "wisdom_id": wisdom.json()["session_id"],
        "job_id": job.json()["job_id"],
    }


async def _staged_upload(a: httpx.AsyncClient) -> str:
    [staged] = (await a.post("/v1/uploads", files=[("files", ("more.md", PLAN))])).json()
    return staged["upload_id"]
