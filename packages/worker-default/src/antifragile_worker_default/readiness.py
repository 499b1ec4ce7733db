"""validate_training_readiness: is an organisation's corpus big enough to train its model on?

Statistics come from the documents table, for that organisation only. Duplicates are of two kinds:
uploads that resolved to a document stored before (same bytes), and near-duplicate documents (the
same text modulo case and whitespace as another, e.g. one report as PDF and as DOCX). Near-duplicates
count once towards the document and token thresholds; UNIQUE_DOCUMENTS picks which one, and a training
job's corpus manifest is built from the very same selection.
"""

from collections.abc import Callable
from typing import Any

from antifragile_core.contracts.documents import (
    VALIDATE_TRAINING_READINESS,
    ReadinessRequest,
    TrainingReadiness,
)

from .resources import Resources

CHARS_PER_TOKEN = 4
"""English text averages about four characters per BPE token; enough for a threshold check."""

UNIQUE_DOCUMENTS = """
SELECT DISTINCT ON (text_hash) id, content_hash, text_hash, text_key, char_count
FROM documents WHERE organization_id = $1 ORDER BY text_hash, created_at, id
"""
"""One document per distinct text (the first stored), for readiness and training alike."""

_STATS = f"""
WITH docs AS (
    SELECT id, upload_key FROM documents WHERE organization_id = $1
), first_of_text AS ({UNIQUE_DOCUMENTS})
SELECT
    (SELECT count(*) FROM docs) AS documents,
    (SELECT count(*) FROM first_of_text) AS unique_documents,
    (SELECT coalesce(sum(char_count), 0) FROM first_of_text) AS chars,
    (SELECT count(*) FROM document_uploads u JOIN docs d ON d.id = u.document_id
      WHERE u.organization_id = $1 AND u.upload_key <> d.upload_key) AS duplicate_uploads
"""


def activities(res: Resources) -> list[Callable[..., Any]]:
    @VALIDATE_TRAINING_READINESS.implement
    async def validate_training_readiness(request: ReadinessRequest) -> TrainingReadiness:
        return await check_readiness(res, request.organization_id)

    return [validate_training_readiness]


async def check_readiness(res: Resources, organization_id: str) -> TrainingReadiness:
    stats = await res.pool.fetchrow(_STATS, organization_id)
    unique, chars = stats["unique_documents"], int(stats["chars"])
    tokens = chars // CHARS_PER_TOKEN
    min_documents, min_tokens = res.settings.readiness_min_documents, res.settings.readiness_min_tokens
    reasons = []
    if unique < min_documents:
        reasons.append(
            f"{unique} unique document(s), at least {min_documents} needed; upload "
            f"{min_documents - unique} more"
        )
    if tokens < min_tokens:
        reasons.append(
            f"about {tokens:,} tokens of text, at least {min_tokens:,} needed; upload roughly "
            f"{(min_tokens - tokens) * CHARS_PER_TOKEN:,} more characters"
        )
    near_duplicates = stats["documents"] - unique
    return TrainingReadiness(
        organization_id=organization_id,
        ready=not reasons,
        document_count=stats["documents"],
        unique_documents=unique,
        total_chars=chars,
        approx_tokens=tokens,
        duplicate_count=stats["duplicate_uploads"] + near_duplicates,
        reasons=reasons,
    )
