"""get_organization_costs: an organisation's LLM spend per activity and model, read from the ledger that
the openai-queue worker writes (see antifragile_worker_openai.budget for why it writes it there).

Spent is every booked call (settled, unknown) and every reservation a lost worker left behind; reserved is
the calls in flight: together, what the budget check counts."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from antifragile_core.contracts.costs import (
    GET_ORGANIZATION_COSTS,
    STALE_RESERVATION,
    CostLine,
    CostQuery,
    CostReport,
    budget_month_start,
)

from .resources import Resources


def activities(res: Resources) -> list[Callable[..., Any]]:
    @GET_ORGANIZATION_COSTS.implement
    async def get_organization_costs(query: CostQuery) -> CostReport:
        since = query.since or budget_month_start(datetime.now(UTC))
        async with res.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT activity, model, count(*) AS calls, sum(input_tokens) AS input_tokens,"
                " sum(output_tokens) AS output_tokens,"
                " sum(CASE WHEN status = 'reserved' THEN reserved_usd ELSE cost_usd END) AS cost_usd,"
                " count(*) FILTER (WHERE status <> 'settled') AS unknown_calls,"
                " count(*) FILTER (WHERE usage_source = 'estimated') AS estimated_calls"
                " FROM llm_costs WHERE organization_id = $1 AND created_at >= $2"
                " AND (status IN ('settled', 'unknown')"
                "      OR (status = 'reserved' AND created_at <= now() - $3::interval))"
                " GROUP BY activity, model ORDER BY activity, model",
                query.organization_id,
                since,
                STALE_RESERVATION,
            )
            reserved = await conn.fetchval(
                "SELECT coalesce(sum(reserved_usd), 0) FROM llm_costs WHERE organization_id = $1"
                " AND created_at >= $2 AND status = 'reserved' AND created_at > now() - $3::interval",
                query.organization_id,
                since,
                STALE_RESERVATION,
            )
        lines = [
            CostLine(
                activity=r["activity"],
                model=r["model"],
                calls=r["calls"],
                input_tokens=r["input_tokens"],
                output_tokens=r["output_tokens"],
                cost_usd=float(r["cost_usd"]),
                unknown_calls=r["unknown_calls"],
                estimated_calls=r["estimated_calls"],
            )
            for r in rows
        ]
        return CostReport(
            organization_id=query.organization_id,
            since=since,
            lines=lines,
            spent_usd=sum(line.cost_usd for line in lines),
            reserved_usd=float(reserved),
            budget_usd=res.settings.budget_for(query.organization_id),
        )

    return [get_organization_costs]
