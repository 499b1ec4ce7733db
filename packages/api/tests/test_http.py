"""The HTTP surface: credentials, roles, problem details, the streamed size limit, health and metrics."""

import uuid

from .conftest import Api


async def test_requests_without_a_valid_key_are_refused_as_problem_details(api: Api) -> None:
    async with api.http() as anonymous, api.http("afk_0123456789abcdef_forged") as forged:
        for client in (anonymous, forged):
            response = await client.get("/v1/documents")
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
            assert "Authorization: Bearer" in response.json()["detail"]


async def test_members_cannot_submit_training_and_the_body_cannot_name_an_organisation(api: Api) -> None:
    org = f"org-{uuid.uuid4().hex[:8]}"
    async with api.http(await api.key(org, "member")) as member, api.http(await api.key(org)) as admin:
        assert (await member.post("/v1/training/jobs", json={"request_id": "r1"})).status_code == 403
        smuggled = await admin.post(
            "/v1/training/jobs", json={"request_id": "r1", "organization_id": "other"}
        )
        assert smuggled.status_code == 422
        assert smuggled.json()["error_type"] == "InvalidInput"
        missing = await admin.get("/v1/training/jobs/job-000000000000000000000000")
        assert missing.status_code == 404
        assert missing.json()["error_type"] == "NotFound"
        assert "no training job" in missing.json()["detail"]


async def test_an_upload_over_the_limit_is_refused_while_streaming(api: Api) -> None:
    org = f"org-{uuid.uuid4().hex[:8]}"
    limit = api.settings.max_document_bytes
    async with api.http(await api.key(org)) as client:
        files = [("files", ("small.md", b"fits")), ("files", ("huge.md", b"x" * (limit + 1)))]
        response = await client.post("/v1/uploads", files=files)
        assert response.status_code == 413
        body = response.json()
        assert body["error_type"] == "DocumentTooLarge" and "huge.md" in body["detail"]
        not_multipart = await client.post(
            "/v1/uploads", content=b"plain", headers={"content-type": "text/plain"}
        )
        assert not_multipart.status_code == 415


async def test_openapi_health_and_metrics(api: Api) -> None:
    async with api.http() as client:
        schema = (await client.get("/openapi.json")).json()
        assert {"/v1/uploads", "/v1/catchball", "/v1/participant/{token}/answer"} <= set(schema["paths"])
        assert (await client.get("/livez")).text == "live\n"
        assert (await client.get("/readyz")).status_code == 200
        metrics = (await client.get("/metrics")).text
        assert 'antifragile_api_requests_total{method="GET",route="/readyz",status="200"} 1.0' in metrics
