"""Hosted web search is billed per search: the reservation holds the fee of every search a call may run,
the booking charges the searches it ran, and a budget that cannot hold the fees refuses the call."""

from collections.abc import Callable
from decimal import Decimal

import asyncpg
import pytest
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.errors import BUDGET_EXCEEDED
from antifragile_core.settings import Settings
from antifragile_worker_openai.budget import BillingScope, Ledger
from temporalio.exceptions import ApplicationError

PRICES = {"m": {"input_per_million": 1.0, "output_per_million": 1.0}}


async def test_search_fees_are_reserved_and_booked(
    make_settings: Callable[..., Settings], db_pool: asyncpg.Pool, org_id: str
) -> None:
    settings = make_settings(llm_prices=PRICES, llm_max_output_tokens=1_000, llm_web_search_price_usd=0.01)
    ledger, scope = Ledger(db_pool, settings), BillingScope(org_id, "perform_simple_research")

    reservation = await ledger.reserve(scope, "m", 1_000, searches=3)
    cost = await ledger.settle(
        reservation, TokenUsage(requests=1, input_tokens=500, output_tokens=100), searches=1
    )

    assert reservation.reserved_usd == Decimal("0.002") + Decimal("0.03")
    assert cost == Decimal("0.0006") + Decimal("0.01")
    row = await db_pool.fetchrow(
        "SELECT cost_usd, web_searches FROM llm_costs WHERE call_id = $1", reservation.call_id
    )
    assert (row["cost_usd"], row["web_searches"]) == (cost, 1)


async def test_a_budget_that_cannot_hold_the_search_fees_refuses_the_call(
    make_settings: Callable[..., Settings], db_pool: asyncpg.Pool, org_id: str
) -> None:
    settings = make_settings(llm_prices=PRICES, llm_web_search_price_usd=0.01, llm_budget_usd=0.02)
    ledger, scope = Ledger(db_pool, settings), BillingScope(org_id, "perform_simple_research")

    await ledger.reserve(scope, "m", 1_000)  # without searches it fits
    with pytest.raises(ApplicationError) as refused:
        await ledger.reserve(scope, "m", 1_000, searches=3)
    assert refused.value.type == BUDGET_EXCEEDED
