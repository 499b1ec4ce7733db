"""A training job's corpus, fixed at submit: the documents readiness judged, near-duplicates once.

Stored content-addressed, so the same corpus always has the same key and no later upload, retry or
evaluation can change what a job trained on.
"""

import hashlib

from antifragile_core.contracts.training import CorpusDocument, CorpusManifest
from antifragile_core.storage import org_key

from .readiness import UNIQUE_DOCUMENTS
from .resources import Resources


async def snapshot_corpus(res: Resources, organization_id: str) -> str:
    """Store the organisation's current training corpus as a CorpusManifest; returns its key."""
    rows = await res.pool.fetch(UNIQUE_DOCUMENTS, organization_id)
    manifest = CorpusManifest(
        organization_id=organization_id,
        documents=[
            CorpusDocument(
                document_id=str(row["id"]),
                content_hash=row["content_hash"],
                text_hash=row["text_hash"],
                text_key=row["text_key"],
            )
            for row in rows
        ],
    )
    data = manifest.model_dump_json().encode()
    key = org_key(organization_id, "training", "manifests", f"{hashlib.sha256(data).hexdigest()}.json")
    if not await res.store.exists(key):
        await res.store.put(key, data)
    return key
