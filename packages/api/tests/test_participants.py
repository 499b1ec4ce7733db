"""Participant links over HTTP: each person answers only their own turn; forged or expired links are
refused; an update the workflow refuses says why at once."""

import time
import uuid

from antifragile_api.links import ParticipantGrant, grant_for, sign

from .conftest import SIGNING_SECRET, Api, wait_for


async def test_a_participant_answers_only_their_own_turn(api: Api) -> None:
    org = f"org-{uuid.uuid4().hex[:8]}"
    async with api.http(await api.key(org)) as admin, api.http() as anyone:
        people = [{"name": "Ana", "level": "ceo"}, {"name": "Bo", "level": "vp"}]
        started = await admin.post(
            "/v1/catchball", json={"statement": "We expand north.", "participants": people, "max_rounds": 1}
        )
        assert started.status_code == 201, started.text
        ana, bo = (link["url"].rsplit("/", 1)[1] for link in started.json()["links"])

        early = await anyone.post(f"/v1/participant/{bo}/answer", json={"agree": True})
        assert early.status_code == 409 and "Ana's turn" in early.json()["detail"]
        taken = await anyone.post(f"/v1/participant/{ana}/answer", json={"feedback": "Name the depots."})
        assert taken.status_code == 202, taken.text

        async def bos_turn() -> dict | None:
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
