"""Cost report contract: what an organisation's LLM calls cost, read from the ledger (default-queue)."""

from datetime import UTC, datetime, timedelta

from pydantic import Field

from ..queues import DEFAULT_QUEUE
from .base import ActivityContract, Model, OrgId

STALE_RESERVATION = timedelta(hours=1)
"""A reservation older than any LLM activity's timeout belongs to a lost worker: its call may have been
billed, so the report books it as spent with an unknown outcome (the budget counts every reservation)."""


def budget_month_start(now: datetime) -> datetime:
    """The start of the budget month (UTC) that `now` falls in: budgets are per calendar month."""
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class CostQuery(Model):
    organization_id: OrgId
    since: datetime | None = None
    """Start of the period; the current budget month (UTC) when unset."""


class CostLine(Model):
    activity: str
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    unknown_calls: int = Field(default=0, description="no answer came back; booked at the reserved amount")
    estimated_calls: int = Field(default=0, description="the endpoint reported no usage; tokens counted here")


class CostReport(Model):
    """Spent per activity and model, what in-flight calls have reserved, and the budget; spent plus
    reserved is what the budget check counts."""

    organization_id: OrgId
    since: datetime
    lines: list[CostLine]
    spent_usd: float
    reserved_usd: float
    budget_usd: float | None


GET_ORGANIZATION_COSTS = ActivityContract(
    name="get_organization_costs",
    queue=DEFAULT_QUEUE,
    input=CostQuery,
    output=CostReport,
    start_to_close=timedelta(minutes=1),
)
