"""Retrieval contract: full-text search over an organisation's own stored document text (default-queue).

A helper step, not one of the seed's 19: research needs passages, and passages live in PostgreSQL, which
only the default worker talks to for documents.
"""

from pydantic import Field

from ..queues import DEFAULT_QUEUE
from .base import ActivityContract, Model, OrgId
from .collective import Passage
from .timing import SEARCH


class PassageQuery(Model):
    organization_id: OrgId
    query: str = Field(min_length=1, max_length=2_000)
    limit: int = Field(default=8, ge=1, le=50)


class PassageHits(Model):
    """The best passages, best first; `indexed_documents` counts the org's searchable documents."""

    passages: list[Passage]
    indexed_documents: int


SEARCH_ORGANIZATION_DOCUMENTS = ActivityContract(
    name="search_organization_documents",
    queue=DEFAULT_QUEUE,
    input=PassageQuery,
    output=PassageHits,
    timing=SEARCH,
)
