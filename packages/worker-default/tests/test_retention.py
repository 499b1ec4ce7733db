"""cleanup_old_data on real stores and PostgreSQL: a dry run counts exactly what a real run removes."""

import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from antifragile_core.contracts.operations import CLEANUP_OLD_DATA, CleanupReport, CleanupRequest, DataKind
from antifragile_core.storage import org_key
from antifragile_worker_default.documents import process_upload
from antifragile_worker_default.manifests import snapshot_corpus
from antifragile_worker_default.resources import Resources
from antifragile_worker_default.retention import kind_of
from antifragile_worker_default.retrieval import index_missing

OLD_DAYS = 100
RETENTION = {
    DataKind.ORIGINALS: 30,
    DataKind.EXTRACTED_TEXT: 30,
    DataKind.REPORTS: 30,
    DataKind.CHECKPOINTS: 30,
    DataKind.FINDINGS: 30,
    DataKind.BATCHES: 30,
}


def layout(org: str) -> dict[str, DataKind | None]:
    """One object of each kind an organisation has, and one of a kind retention never touches."""
    digest, job = uuid.uuid4().hex * 2, f"job-{uuid.uuid4().hex[:8]}"
    return {
        org_key(org, "uploads", uuid.uuid4().hex): DataKind.ORIGINALS,
        org_key(org, "documents", digest, "original"): DataKind.ORIGINALS,
        org_key(org, "documents", digest, "text.txt"): DataKind.EXTRACTED_TEXT,
        org_key(org, "reports", "competitors", f"{uuid.uuid4().hex}.md"): DataKind.REPORTS,
        org_key(org, "checkpoints", job, "checkpoint-20.tar"): DataKind.CHECKPOINTS,
        org_key(org, "models", job, "adapter"): None,
    }


async def put_objects(res: Resources, org: str, age_days: float, size: int) -> dict[str, DataKind | None]:
    objects = layout(org)
    for key in objects:
        await res.store.put(key, b"x" * size)
        if age_days:
            then = time.time() - age_days * 86400
            os.utime(res.settings.storage_dir / key, (then, then))
    return objects


async def put_findings(res: Resources, org: str, age_days: float, count: int) -> None:
    first_seen = datetime.now(UTC) - timedelta(days=age_days)
    await res.pool.executemany(
        "INSERT INTO competitor_findings (organization_id, finding_id, competitor, title, url, source,"
        " published, snippet, scan_id, first_seen)"
        " VALUES ($1, $2, 'Acme', 'A title', 'http://x', 'http://feed', NULL, 'snippet', 'test', $3)",
        [(org, uuid.uuid4().hex, first_seen) for _ in range(count)],
    )


async def put_batches(res: Resources, org: str, age_days: float, count: int) -> None:
    created = datetime.now(UTC) - timedelta(days=age_days)
    for _ in range(count):
        batch_id = uuid.uuid4().hex
        await res.pool.execute(
            "INSERT INTO document_batches (organization_id, batch_id, total, created_at)"
            " VALUES ($1, $2, 1, $3)",
            org,
            batch_id,
            created,
        )
        await res.pool.execute(
            "INSERT INTO document_batch_items (organization_id, batch_id, seq, filename, upload_key)"
            " VALUES ($1, $2, 0, 'a.txt', 'orgs/x/uploads/1')",
            org,
            batch_id,
        )


def counts(report: CleanupReport) -> dict[DataKind, tuple[int, int]]:
    return {c.kind: (c.items, c.bytes) for c in report.counts}


async def test_dry_run_counts_what_a_real_run_removes(
    resources: Resources, org_id: str, run_activity: Any
) -> None:
    res = resources
    other_org = f"{org_id}-other"
    old = await put_objects(res, org_id, age_days=OLD_DAYS, size=10)
    new = await put_objects(res, org_id, age_days=0, size=1000)
    untouched = await put_objects(res, other_org, age_days=OLD_DAYS, size=10)
    await put_findings(res, org_id, age_days=OLD_DAYS, count=3)
    await put_findings(res, org_id, age_days=1, count=2)
    await put_findings(res, other_org, age_days=OLD_DAYS, count=4)
    await put_batches(res, org_id, age_days=OLD_DAYS, count=2)
    await put_batches(res, org_id, age_days=1, count=1)
    await put_batches(res, other_org, age_days=OLD_DAYS, count=1)

    request = CleanupRequest(organization_id=org_id, retention_days=RETENTION, dry_run=True)
    dry = await run_activity(res, CLEANUP_OLD_DATA, request)
    assert all([await res.store.exists(k) for k in old]), "a dry run deletes nothing"
    real = await run_activity(res, CLEANUP_OLD_DATA, request.model_copy(update={"dry_run": False}))

    assert (dry.dry_run, real.dry_run) == (True, False)
    assert counts(dry) == counts(real)
    got = counts(real)
    assert {k: v for k, v in got.items() if k not in (DataKind.FINDINGS, DataKind.BATCHES)} == {
        DataKind.ORIGINALS: (2, 20),
        DataKind.EXTRACTED_TEXT: (1, 10),
        DataKind.REPORTS: (1, 10),
        DataKind.CHECKPOINTS: (1, 10),
    }
    assert got[DataKind.FINDINGS][0] == 3 and got[DataKind.FINDINGS][1] > 0
    assert got[DataKind.BATCHES][0] == 2 and got[DataKind.BATCHES][1] > 0

    for key, kind in old.items():
        assert await res.store.exists(key) is (kind is None), key
    assert all([await res.store.exists(k) for k in new]), "recent data is kept"
    assert all([await res.store.exists(k) for k in untouched]), "another organisation is never touched"
    remaining = await res.pool.fetchval(
        "SELECT count(*) FROM competitor_findings WHERE organization_id = $1", org_id
    )
    assert remaining == 2
    others = await res.pool.fetchval(
        "SELECT count(*) FROM competitor_findings WHERE organization_id = $1", other_org
    )
    assert others == 4
    batches = "SELECT count(*) FROM {} WHERE organization_id = $1"
    assert await res.pool.fetchval(batches.format("document_batches"), org_id) == 1
    assert await res.pool.fetchval(batches.format("document_batch_items"), org_id) == 1, "items go too"
    assert await res.pool.fetchval(batches.format("document_batches"), other_org) == 1

    again = await run_activity(res, CLEANUP_OLD_DATA, request.model_copy(update={"dry_run": False}))
    assert all(c.items == 0 and c.bytes == 0 for c in again.counts)


async def test_only_the_listed_kinds_and_every_org_when_none_is_given(
    resources: Resources, org_id: str, run_activity: Any
) -> None:
    res = resources
    first = await put_objects(res, org_id, age_days=OLD_DAYS, size=5)
    second = await put_objects(res, f"{org_id}-b", age_days=OLD_DAYS, size=5)
    report = await run_activity(
        res, CLEANUP_OLD_DATA, CleanupRequest(retention_days={DataKind.REPORTS: 7}, dry_run=False)
    )
    assert counts(report) == {DataKind.REPORTS: (2, 10)}
    for key, kind in (first | second).items():
        assert await res.store.exists(key) is (kind != DataKind.REPORTS)


async def test_dry_run_equals_real_run_on_either_store(
    make_resources: Any, store_overrides: dict[str, Any], org_id: str, run_activity: Any
) -> None:
    async with make_resources(**store_overrides) as res:
        objects = layout(org_id)
        for i, key in enumerate(objects):
            await res.store.put(key, b"y" * (i + 1))
        everything = {kind: 0 for kind in DataKind if kind not in (DataKind.FINDINGS, DataKind.BATCHES)}
        request = CleanupRequest(organization_id=org_id, retention_days=everything, dry_run=True)
        dry = await run_activity(res, CLEANUP_OLD_DATA, request)
        real = await run_activity(res, CLEANUP_OLD_DATA, request.model_copy(update={"dry_run": False}))
        left = [info.key for info in await res.store.list_objects(org_key(org_id) + "/")]
    assert counts(dry) == counts(real)
    assert sum(c.items for c in real.counts) == 5
    assert sum(c.bytes for c in real.counts) == 1 + 2 + 3 + 4 + 5
    assert left == [k for k, kind in objects.items() if kind is None]


def test_kinds_follow_the_key_layout() -> None:
    assert kind_of("orgs/a/documents/abc/original") == DataKind.ORIGINALS
    assert kind_of("orgs/a/documents/abc/text.txt") == DataKind.EXTRACTED_TEXT
    assert kind_of("orgs/a/documents/abc/pages/1.txt") is None
    assert kind_of("orgs/a/models/job/checkpoints/5/x") == DataKind.CHECKPOINTS
    assert kind_of("orgs/a") is None
    assert kind_of("orgs/a/models/job/heldout.jsonl") == DataKind.TRAINING_DATA
    assert kind_of("orgs/a/training/manifests/abc.json") == DataKind.TRAINING_DATA
    assert kind_of("orgs/a/models/job/adapter/adapter_model.safetensors") is None


async def test_every_copy_of_an_organisations_data_expires(
    resources: Resources, org_id: str, run_activity: Any, stage: Any
) -> None:
    """Everything the features store for an organisation — objects and rows — is reached by retention,
    and the dry run reports exactly what the real run removes."""
    res = resources
    upload = await stage(res.store, org_id, "plan.txt", ("We open two depots in the north. " * 50).encode())
    document = await process_upload(res, upload)
    abandoned = await stage(res.store, org_id, "draft.txt", b"staged, never processed")
    async with res.pool.acquire() as conn:
        await index_missing(conn, res.store, org_id)
    manifest_key = await snapshot_corpus(res, org_id)
    job = f"job-{uuid.uuid4().hex[:8]}"
    extra = {
        org_key(org_id, "models", job, "heldout.jsonl"): DataKind.TRAINING_DATA,
        org_key(org_id, "datasets", f"{job}.jsonl"): DataKind.TRAINING_DATA,
        org_key(org_id, "checkpoints", job, "checkpoint-4", "adapter.safetensors"): DataKind.CHECKPOINTS,
        org_key(org_id, "reports", "competitors", "scan.md"): DataKind.REPORTS,
    }
    for key in extra:
        await res.store.put(key, b"z" * 7)
    await put_findings(res, org_id, age_days=0, count=2)
    adapter = org_key(org_id, "models", job, "adapter", "adapter_model.safetensors")
    await res.store.put(adapter, b"weights")
    assert await res.pool.fetchval(
        "SELECT count(*) FROM document_passages WHERE organization_id = $1", org_id
    ), "the document was indexed for search"

    everything = dict.fromkeys(DataKind, 0)
    request = CleanupRequest(organization_id=org_id, retention_days=everything, dry_run=True)
    dry = await run_activity(res, CLEANUP_OLD_DATA, request)
    real = await run_activity(res, CLEANUP_OLD_DATA, request.model_copy(update={"dry_run": False}))

    assert [c.model_dump() for c in dry.counts] == [c.model_dump() for c in real.counts]
    got = {c.kind: c for c in real.counts}
    assert got[DataKind.ORIGINALS].items == 2, "the stored original and an abandoned staged upload"
    assert got[DataKind.EXTRACTED_TEXT].items == 1 and got[DataKind.EXTRACTED_TEXT].rows >= 3
    assert got[DataKind.TRAINING_DATA].items == 3, "held-out text, dataset and corpus manifest"
    assert manifest_key.startswith(org_key(org_id, "training"))
    left = [info.key for info in await res.store.list_objects(org_key(org_id) + "/")]
    assert left == [adapter], "only the trained adapter stays"
    for table in ("documents", "document_uploads", "document_passages", "competitor_findings"):
        rows = await res.pool.fetchval(f"SELECT count(*) FROM {table} WHERE organization_id = $1", org_id)
        assert rows == 0, table
    assert document.document_id and abandoned.upload_key


async def test_a_documents_summaries_go_with_its_text_and_its_batch_outcome_stays(
    resources: Resources, org_id: str, run_activity: Any, stage: Any
) -> None:
    res = resources
    upload = await stage(res.store, org_id, "plan.txt", ("Two depots in the north. " * 40).encode())
    document = await process_upload(res, upload)
    await put_batches(res, org_id, age_days=0, count=1)
    await res.pool.execute(
        "UPDATE document_batch_items SET status = 'done', document_id = $2::uuid,"
        " summary = '{\"summary\": \"depots\"}', analysis = '{}' WHERE organization_id = $1",
        org_id,
        document.document_id,
    )

    request = CleanupRequest(
        organization_id=org_id, retention_days={DataKind.EXTRACTED_TEXT: 0}, dry_run=False
    )
    await run_activity(res, CLEANUP_OLD_DATA, request)

    item = await res.pool.fetchrow("SELECT * FROM document_batch_items WHERE organization_id = $1", org_id)
    assert (item["status"], item["document_id"], item["summary"], item["analysis"]) == (
        "done",
        None,
        None,
        None,
    )
