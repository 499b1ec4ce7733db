"""Costs and budgets: every LLM call is priced, recorded per organisation, activity and model, and held
to the organisation's monthly budget.

Why here, in the openai-queue worker with its own asyncpg pool, and not in default-queue activities
that the workflows call around each LLM step: only this worker sees every call. One activity may make
many calls (a long document is read in parts), a retried attempt spends tokens again, and activities
are started by several workflows; a workflow-level reserve/settle pair would miss all three. Holding
the budget strictly also needs the reservation immediately before the request, with the request's own
size. The price is one small driver (asyncpg, no further dependencies; no ORM, no migrations here —
the schema is worker-default's `003_costs.sql`, the single owner of the database schema).

Never an overrun: before each request a row reserves an upper bound of its cost — UTF-8 bytes of
everything sent (a BPE token is at least one byte) plus the `max_tokens` cap on the answer — under a
per-organisation advisory lock that serialises concurrent reservations; the row is settled with the
usage the endpoint reports. Near the budget (LLM_BUDGET_SWITCH_FRACTION) calls switch to
OPENAI_MODEL_ECONOMY; a call whose bound no longer fits is refused with non-retryable BudgetExceeded.
The bound is pessimistic by design: near the end of a budget a call that might have fitted is refused.
Hosted web search is billed by OpenAI per search as well; that fee is not in the price table.
"""

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import asyncpg
from antifragile_core.contracts.costs import STALE_RESERVATION, budget_month_start
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.errors import BUDGET_EXCEEDED, bad_input
from antifragile_core.faults import postgres_service, until_up
from antifragile_core.metrics import record_llm_usage
from antifragile_core.settings import Settings
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from .ratelimit import TokenBucket

T = TypeVar("T")
log = logging.getLogger(__name__)

MODEL_NOT_PRICED = "ModelNotPriced"
MESSAGE_OVERHEAD_BYTES = 64
"""Room for the chat template's role and separator tokens around the two messages."""
_MILLION = Decimal(1_000_000)


@dataclass
class BillingScope:
    """Who pays for the LLM calls of the running activity, and the model its last call actually used."""

    organization_id: str
    activity: str
    last_model: str | None = None


_SCOPE: contextvars.ContextVar[BillingScope | None] = contextvars.ContextVar("billing_scope", default=None)


def current_scope() -> BillingScope | None:
    return _SCOPE.get()


class BillingInterceptor(Interceptor):
    """Opens a billing scope for every activity whose input names an organisation."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BillingInbound(next)


class _BillingInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        org = getattr(input.args[0], "organization_id", None) if input.args else None
        scope = BillingScope(org, activity.info().activity_type) if org else None
        token = _SCOPE.set(scope)
        try:
            return await super().execute_activity(input)
        finally:
            _SCOPE.reset(token)


def price(settings: Settings, model: str, input_tokens: int, output_tokens: int) -> Decimal:
    """USD for a call on `model` from the price table; an unpriced model is refused, never free."""
    entry = settings.llm_prices.get(model)
    if entry is None:
        raise bad_input(
            MODEL_NOT_PRICED,
            f"No price for model {model!r}: add it to LLM_PRICES "
            '(JSON: {"model": {"input_per_million": ..., "output_per_million": ...}}).',
        )
    return (
        Decimal(str(entry.input_per_million)) * input_tokens
        + Decimal(str(entry.output_per_million)) * output_tokens
    ) / _MILLION


def input_bound(*texts: str) -> int:
    """An upper bound of the input tokens of a request made of `texts`."""
    return sum(len(t.encode()) for t in texts) + MESSAGE_OVERHEAD_BYTES


@dataclass(frozen=True)
class Reservation:
    id: int
    model: str
    reserved_usd: Decimal


class Ledger:
    """The `llm_costs` table: reserve before a call, settle or release after."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings

    async def reserve(self, scope: BillingScope, wanted: str, input_tokens: int) -> Reservation:
        """Reserve the bound of one call, on `wanted` or, near the budget, the economy model."""
        settings, org = self.settings, scope.organization_id
        budget = settings.budget_for(org)
        max_out = settings.llm_max_output_tokens
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('llm_budget:' || $1))", org)
            committed: Decimal = await conn.fetchval(
                "SELECT coalesce(sum(CASE WHEN status = 'settled' THEN cost_usd ELSE reserved_usd END), 0)"
                " FROM llm_costs WHERE organization_id = $1 AND created_at >= $2"
                " AND (status = 'settled' OR (status = 'reserved' AND created_at > now() - $3::interval))",
                org,
                budget_month_start(datetime.now(UTC)),
                STALE_RESERVATION,
            )
            model = wanted
            bound = price(settings, model, input_tokens, max_out)
            if budget is not None:
                limit = Decimal(str(budget))
                if committed + bound > limit * Decimal(str(settings.llm_budget_switch_fraction)):
                    model = settings.openai_model_economy or wanted
                    bound = price(settings, model, input_tokens, max_out)
                if committed + bound > limit:
                    raise bad_input(
                        BUDGET_EXCEEDED,
                        f"Organisation {org} has used ${committed:.4f} of its ${limit:.2f} monthly LLM "
                        f"budget; this call could cost up to ${bound:.4f} on {model}. Raise the budget "
                        "(LLM_BUDGET_USD or LLM_BUDGET_OVERRIDES) or wait for next month.",
                    )
            row_id = await conn.fetchval(
                "INSERT INTO llm_costs (organization_id, activity, model, status, reserved_usd)"
                " VALUES ($1, $2, $3, 'reserved', $4) RETURNING id",
                org,
                scope.activity,
                model,
                bound,
            )
        return Reservation(id=row_id, model=model, reserved_usd=bound)

    async def settle(self, reservation: Reservation, usage: TokenUsage) -> float:
        """Book the call at its reported usage; returns its cost in USD."""
        cost = price(self.settings, reservation.model, usage.input_tokens, usage.output_tokens)
        await self.pool.execute(
            "UPDATE llm_costs SET status = 'settled', requests = $2, input_tokens = $3, output_tokens = $4,"
            " cost_usd = $5, settled_at = now() WHERE id = $1",
            reservation.id,
            usage.requests,
            usage.input_tokens,
            usage.output_tokens,
            cost,
        )
        return cost

    async def settle_unknown(self, reservation: Reservation) -> None:
        """Tokens were spent but their count was lost with the failure: book the reserved bound."""
        await self.pool.execute(
            "UPDATE llm_costs SET status = 'settled', requests = 1, cost_usd = reserved_usd,"
            " settled_at = now() WHERE id = $1",
            reservation.id,
        )

    async def release(self, reservation: Reservation) -> None:
        await self.pool.execute(
            "UPDATE llm_costs SET status = 'released', settled_at = now() WHERE id = $1", reservation.id
        )


class Meter:
    """Wraps each LLM call: token bucket, reservation, the call on the chosen model, settlement."""

    def __init__(self, ledger: Ledger, bucket: TokenBucket | None = None) -> None:
        self.ledger = ledger
        self.bucket = bucket

    async def metered(
        self,
        model: str,
        sent: list[str],
        call: Callable[[str], Awaitable[tuple[T, TokenUsage]]],
        spent_on_failure: Callable[[ApplicationError], bool],
    ) -> tuple[T, TokenUsage]:
        """Run `call(model_to_use)`; `spent_on_failure` says whether a failed call still used tokens."""
        scope = current_scope()
        if scope is None:
            raise RuntimeError("an LLM call outside an organisation's activity cannot be billed")
        bound = input_bound(*sent)
        reservation = await self.ledger.reserve(scope, model, bound)
        try:
            if self.bucket is not None:
                # The bucket meters what the endpoint's own rate limiter counts: about 4 bytes a token.
                await self.bucket.acquire(bound // 4 + self.ledger.settings.llm_max_output_tokens)
            output, usage = await call(reservation.model)
        except ApplicationError as err:
            if spent_on_failure(err):
                await self.ledger.settle_unknown(reservation)
            else:
                await self.ledger.release(reservation)
            raise
        except BaseException:
            await self.ledger.release(reservation)
            raise
        # The answer is paid for: wait out a database outage rather than fail and pay for it again.
        database = postgres_service(self.ledger.settings)
        cost = await until_up(database, lambda: self.ledger.settle(reservation, usage))
        record_llm_usage(reservation.model, usage, cost)
        scope.last_model = reservation.model
        return output, usage


def model_used(requested: str) -> str:
    """The model the running activity's calls actually used (the economy model after a switch)."""
    scope = current_scope()
    return scope.last_model if scope is not None and scope.last_model else requested


async def open_meter(settings: Settings, wait_seconds: float = 120.0) -> Meter:
    """The worker's meter on its own small pool. The ledger table is worker-default's to create; workers
    start in any order (compose, Kubernetes, `antifragile dev`), so wait a while for its migration."""
    pool = await asyncpg.create_pool(settings.postgres_dsn, min_size=1, max_size=4)
    deadline = time.monotonic() + wait_seconds
    while await pool.fetchval("SELECT to_regclass('llm_costs')") is None:
        if time.monotonic() > deadline:
            await pool.close()
            raise RuntimeError("table llm_costs is missing: start worker-default to migrate the database")
        log.info("waiting for worker-default to create the llm_costs table")
        await asyncio.sleep(1.0)
    bucket = TokenBucket(settings.openai_tokens_per_minute) if settings.openai_tokens_per_minute else None
    return Meter(Ledger(pool, settings), bucket)
