"""The API's record of a staged upload lives until a batch takes the upload (the batch's manifest then
records it) or until retention expires the staged file: no copy outlives what it describes."""

import uuid

import asyncpg
from antifragile_core.contracts.operations import CleanupRequest, DataKind
from antifragile_core.storage import open_store
from antifragile_worker_default.resources import Resources
from antifragile_worker_default.retention import activities
from temporalio.testing import ActivityEnvironment

from .conftest import Api, process


async def test_upload_rows_go_with_their_batch_or_their_expired_file(api: Api) -> None:
    org = f"org-{uuid.uuid4().hex[:8]}"
    async with api.http(await api.key(org)) as admin:
        await process(admin, [("taken.txt", b"Taken by a batch. " * 20)])
        [left] = (await admin.post("/v1/uploads", files=[("files", ("left.txt", b"Never batched."))])).json()
    pool = await asyncpg.create_pool(api.settings.postgres_dsn, min_size=1, max_size=2)
    try:
        rows = "SELECT upload_id FROM api_uploads WHERE organization_id = $1"
        assert [r["upload_id"] for r in await pool.fetch(rows, org)] == [left["upload_id"]]

        request = CleanupRequest(organization_id=org, retention_days={DataKind.ORIGINALS: 0}, dry_run=True)
        async with open_store(api.settings) as store:
            (cleanup,) = activities(
                Resources(settings=api.settings, pool=pool, store=store, client=api.client)
            )
            dry = await ActivityEnvironment().run(cleanup, request)
            real = await ActivityEnvironment().run(cleanup, request.model_copy(update={"dry_run": False}))
        assert [c.model_dump() for c in dry.counts] == [c.model_dump() for c in real.counts]
        assert real.counts[0].rows == 1
        assert await pool.fetch(rows, org) == []
    finally:
        await pool.close()
