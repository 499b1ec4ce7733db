"""Research questions over the organisation's documents, and what its LLM calls cost."""

from datetime import datetime

from antifragile_core.contracts.collective import ResearchAnswer
from antifragile_core.contracts.costs import GET_ORGANIZATION_COSTS, CostQuery, CostReport
from antifragile_workflows.management import manage
from antifragile_workflows.research import ResearchQuestion, ResearchWorkflow
from fastapi import APIRouter

from ..context import Ctx, Member
from ..ids import new_id
from ..scoped import body_of, scoped

router = APIRouter(prefix="/v1", tags=["insight"])

ResearchBody = body_of(ResearchQuestion)


@router.post("/research")
async def research(body: ResearchBody, ctx: Ctx, caller: Member) -> ResearchAnswer:  # type: ignore[valid-type]
    """Answer a question from the organisation's own documents, citing the passages used."""
    question = scoped(ResearchQuestion, caller.organization_id, body)
    return await ctx.client.execute_workflow(
        ResearchWorkflow.run,
        question,
        id=f"api-research-{caller.organization_id}-{new_id()}",
        task_queue=ctx.queue,
    )


@router.get("/costs")
async def costs(ctx: Ctx, caller: Member, since: datetime | None = None) -> CostReport:
    """Settled LLM spend by activity and model, what calls in flight have reserved, and the budget."""
    query = CostQuery(organization_id=caller.organization_id, since=since)
    return await manage(ctx.client, ctx.queue, GET_ORGANIZATION_COSTS, query)
