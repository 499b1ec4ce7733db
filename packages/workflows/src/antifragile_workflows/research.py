"""ResearchWorkflow: find the organisation's passages on a question (default-queue), then answer from
them with citations (openai-queue). Without passages there is nothing to cite, so no tokens are spent."""

from pydantic import Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.base import Model, OrgId
    from antifragile_core.contracts.collective import (
        PERFORM_SIMPLE_RESEARCH,
        ResearchAnswer,
        ResearchRequest,
    )
    from antifragile_core.contracts.retrieval import SEARCH_ORGANIZATION_DOCUMENTS, PassageQuery
    from antifragile_core.errors import NOT_FOUND, bad_input

from .calls import call


class ResearchQuestion(Model):
    organization_id: OrgId
    question: str = Field(min_length=1, max_length=2_000)
    max_passages: int = Field(default=8, ge=1, le=50)
    web_search: bool = False
    model: str | None = None


@workflow.defn
class ResearchWorkflow:
    @workflow.run
    async def run(self, question: ResearchQuestion) -> ResearchAnswer:
        hits = await call(
            SEARCH_ORGANIZATION_DOCUMENTS,
            PassageQuery(
                organization_id=question.organization_id,
                query=question.question,
                limit=question.max_passages,
            ),
        )
        if not hits.passages and not question.web_search:
            raise bad_input(
                NOT_FOUND,
                f"None of the organisation's {hits.indexed_documents} indexed documents mention the "
                "question's words; upload documents on the topic or rephrase.",
            )
        return await call(
            PERFORM_SIMPLE_RESEARCH,
            ResearchRequest(
                organization_id=question.organization_id,
                question=question.question,
                passages=hits.passages,
                web_search=question.web_search,
                model=question.model,
            ),
        )
