"""Participant links over HTTP: each person is sent their link when the session starts, is told (by the
workflow) when their turn opens, and answers only their own turn; forged or expired links are refused; an
answer the workflow refuses says why at once."""

import re
import time
import uuid
from typing import Any

import httpx
from antifragile_api.links import ParticipantGrant, grant_for, sign
from antifragile_testing.local_servers import LocalSite, Recorded, Route

from .conftest import SIGNING_SECRET, Api, wait_for


async def test_each_participant_is_told_when_their_turn_opens_and_answers_only_their_own(api: Api) -> None:
    org = f"org-{uuid.uuid4().hex[:8]}"
    with LocalSite() as hooks:
        for path in ("/hook/ana", "/hook/bo"):
            hooks.routes[path] = Route(body=b"ok")
        notify = {
            n: {"channel": "webhook", "webhook_url": hooks.url(f"/hook/{n.lower()}")} for n in ("Ana", "Bo")
        }
        async with api.http(await api.key(org)) as admin, api.http() as anyone:
            people = [{"name": "Ana", "level": "ceo"}, {"name": "Bo", "level": "vp"}]
            body = {
                "statement": "We expand north.",
                "participants": people,
                "max_rounds": 1,
                "notify": notify,
            }
            started = await admin.post("/v1/catchball", json=body)
            assert started.status_code == 201, started.text
            ana, bo = (link["url"].rsplit("/", 1)[1] for link in started.json()["links"])
            await wait_for(lambda: _hits(hooks, "/hook/ana", 2), "Ana's link and her turn's notice")
            await _take_turns(anyone, ana, bo)
            bos = await wait_for(lambda: _hits(hooks, "/hook/bo", 2), "Bo's link and, after Ana's turn, his")
            link = re.search(rb"/p/([A-Za-z0-9_.-]+)", bos[0].body + bos[1].body)
            assert link is not None, bos
            view = (await anyone.get(f"/v1/participant/{link[1].decode()}")).json()
            assert view["participant"] == "Bo" and view["catchball"]["whose_turn"]["name"] == "Bo"
            turn_notices = [h for h in bos + hooks.hits("/hook/ana", "POST") if b"It is your turn" in h.body]
            assert len(turn_notices) == 2 and all(b"/p/" not in h.body for h in turn_notices)
            [anas_turn] = [h for h in hooks.hits("/hook/ana", "POST") if b"It is your turn" in h.body]
            assert b"We expand north." in anas_turn.body


async def _hits(site: LocalSite, path: str, count: int) -> list[Recorded] | None:
    hits = site.hits(path, "POST")
    return hits if len(hits) >= count else None


async def _take_turns(anyone: httpx.AsyncClient, ana: str, bo: str) -> None:
    """Bo cannot answer Ana's turn; Ana answers; then Ana cannot answer Bo's."""
    early = await anyone.post(f"/v1/participant/{bo}/answer", json={"agree": True})
    assert early.status_code == 409 and "Ana's turn" in early.json()["detail"]
    taken = await anyone.post(f"/v1/participant/{ana}/answer", json={"feedback": "Name the depots."})
    assert taken.status_code == 202, taken.text

    async def bos_turn() -> dict[str, Any] | None:
        state = (await anyone.get(f"/v1/participant/{bo}")).json()["catchball"]
        return state if (state["whose_turn"] or {}).get("name") == "Bo" else None

    await wait_for(bos_turn, "Bo's turn")
    again = await anyone.post(f"/v1/participant/{ana}/answer", json={"agree": True})
    assert again.status_code == 409 and "Bo's turn" in again.json()["detail"]


async def test_forged_and_expired_links_are_refused(api: Api) -> None:
    session = "0123456789abcdef"
    forged = grant_for(b"not-our-secret", "catchball", session, "org-x", "Ana", hours=1)
    expired = sign(
        SIGNING_SECRET.encode(),
        ParticipantGrant(
            kind="catchball",
            session_id=session,
            organization_id="org-x",
            participant="Ana",
            expires=int(time.time()) - 5,
        ),
    )
    async with api.http() as anyone:
        for token, reason in ((forged, "not valid"), (expired, "expired")):
            response = await anyone.post(f"/v1/participant/{token}/answer", json={"agree": True})
            assert response.status_code == 403 and reason in response.json()["detail"]
            page = await anyone.get(f"/p/{token}")
            assert page.status_code == 403 and reason in page.text
