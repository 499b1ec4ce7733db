"""Costs and budgets: every LLM call is priced from what was billed, recorded per organisation, activity
and model, and held to the organisation's monthly budget.

Why here, in the openai-queue worker with its own asyncpg pool, and not in default-queue activities
that the workflows call around each LLM step: only this worker sees every call. One activity may make
many calls (a long document is read in parts, an answer is asked again), a retried attempt spends tokens
again, and activities are started by several workflows. The schema is worker-default's (`003_costs.sql`,
`005_llm_call_outcomes.sql`), the single owner of the database schema.

Never an overrun: before each request a row keyed by a fresh call id reserves an upper bound of its cost
(`tokens.input_bound` of everything sent, the request's `max_tokens`, and the fee of every hosted search
it may run) under a per-organisation advisory lock. After the request the row is settled once:
- answered (valid or not, refused, cut off): at the usage the endpoint reported, or, when it reported
  none, at a local estimate marked `estimated`;
- no answer but maybe billed (timeout, a 5xx other than 503, a dropped connection, cancellation): at the
  reserved amount, status `unknown`;
- turned away unbilled (408, 409, 429, 503, a refused connection, a 4xx rejection): released.
Settling is idempotent per call id and retried until it lands; a row left `reserved` by a lost worker
keeps counting at its reserved amount. Near the budget (LLM_BUDGET_SWITCH_FRACTION) calls switch to
OPENAI_MODEL_ECONOMY; a call whose bound no longer fits is refused with non-retryable BudgetExceeded.
"""

import asyncio
import contextvars
import dataclasses
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import asyncpg
from antifragile_core.contracts.costs import budget_month_start
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.errors import BUDGET_EXCEEDED, bad_input
from antifragile_core.metrics import record_llm_usage
from antifragile_core.settings import Settings
from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from .llm import WEB_SEARCHES_PER_CALL, Completion, EndpointFault, Request
from .ratelimit import TokenBucket
from .tokens import approx_tokens, input_bound

R = TypeVar("R")
log = logging.getLogger(__name__)

MODEL_NOT_PRICED = "ModelNotPriced"
RECORD_RETRY_CAP_SECONDS = 5.0
"""Longest wait between tries to record a paid call: it must land, and soon after the database is back."""
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


def search_fee(settings: Settings, searches: int) -> Decimal:
    return Decimal(str(settings.llm_web_search_price_usd)) * searches


@dataclass(frozen=True)
class Reservation:
    call_id: uuid.UUID
    model: str
    reserved_usd: Decimal


class Ledger:
    """The `llm_costs` table: reserve before a call, then settle, book as unknown, or release."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings

    async def committed(self, organization_id: str, conn: asyncpg.Connection | None = None) -> Decimal:
        """What the budget counts this month: booked costs plus every reservation not yet booked."""
        value: Decimal = await (conn or self.pool).fetchval(
            "SELECT coalesce(sum(CASE WHEN status = 'reserved' THEN reserved_usd ELSE cost_usd END), 0)"
            " FROM llm_costs WHERE organization_id = $1 AND created_at >= $2 AND status <> 'released'",
            organization_id,
            budget_month_start(datetime.now(UTC)),
        )
        return value

    async def reserve(
        self,
        scope: BillingScope,
        wanted: str,
        input_tokens: int,
        *,
        max_output_tokens: int | None = None,
        searches: int = 0,
    ) -> Reservation:
        """Reserve the bound of one call, on `wanted` or, near the budget, the economy model."""
        settings, org = self.settings, scope.organization_id
        budget = settings.budget_for(org)
        max_out = settings.llm_max_output_tokens if max_output_tokens is None else max_output_tokens
        fee = search_fee(settings, searches)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('llm_budget:' || $1))", org)
            committed = await self.committed(org, conn)
            model = wanted
            bound = price(settings, model, input_tokens, max_out) + fee
            if budget is not None:
                limit = Decimal(str(budget))
                if committed + bound > limit * Decimal(str(settings.llm_budget_switch_fraction)):
                    model = settings.openai_model_economy or wanted
                    bound = price(settings, model, input_tokens, max_out) + fee
                if committed + bound > limit:
                    raise bad_input(
                        BUDGET_EXCEEDED,
                        f"Organisation {org} has used ${committed:.4f} of its ${limit:.2f} monthly LLM "
                        f"budget; this call could cost up to ${bound:.4f} on {model}. Raise the budget "
                        "(LLM_BUDGET_USD or LLM_BUDGET_OVERRIDES) or wait for next month.",
                    )
            call_id = uuid.uuid4()
            await conn.execute(
                "INSERT INTO llm_costs (call_id, organization_id, activity, model, status, reserved_usd)"
                " VALUES ($1, $2, $3, $4, 'reserved', $5)",
                call_id,
                org,
                scope.activity,
                model,
                bound,
            )
        return Reservation(call_id=call_id, model=model, reserved_usd=bound)

    async def settle(
        self, reservation: Reservation, usage: TokenUsage, *, estimated: bool = False, searches: int = 0
    ) -> Decimal:
        """Book an answered call at `usage` (`estimated`: counted here, not reported); returns its cost.
        Idempotent: only a row still reserved changes."""
        cost = price(self.settings, reservation.model, usage.input_tokens, usage.output_tokens)
        cost += search_fee(self.settings, searches)
        await self.pool.execute(
            "UPDATE llm_costs SET status = 'settled', requests = $2, input_tokens = $3, output_tokens = $4,"
            " cost_usd = $5, usage_source = $6, web_searches = $7, settled_at = now()"
            " WHERE call_id = $1 AND status = 'reserved'",
            reservation.call_id,
            usage.requests,
            usage.input_tokens,
            usage.output_tokens,
            cost,
            "estimated" if estimated else "reported",
            searches,
        )
        return cost

    async def settle_unknown(self, reservation: Reservation) -> Decimal:
        """A call that may have been billed but got no answer: book its reserved amount, as unknown."""
        await self.pool.execute(
            "UPDATE llm_costs SET status = 'unknown', requests = 1, cost_usd = reserved_usd,"
            " usage_source = 'reserved', settled_at = now() WHERE call_id = $1 AND status = 'reserved'",
            reservation.call_id,
        )
        return reservation.reserved_usd

    async def release(self, reservation: Reservation) -> None:
        """A call the endpoint turned away before any work: it costs nothing."""
        await self.pool.execute(
            "UPDATE llm_costs SET status = 'released', settled_at = now()"
            " WHERE call_id = $1 AND status = 'reserved'",
            reservation.call_id,
        )


class Meter:
    """Wraps each LLM request: reservation, token bucket, the request on the chosen model, the booking."""

    def __init__(self, ledger: Ledger, bucket: TokenBucket | None = None) -> None:
        self.ledger = ledger
        self.bucket = bucket

    async def metered(self, request: Request, call: Callable[[str], Awaitable[Completion]]) -> Completion:
        """`call(model_to_use)`, booked; the completion comes back with its usage (estimated if the
        endpoint reported none)."""
        scope = current_scope()
        if scope is None:
            raise RuntimeError("an LLM call outside an organisation's activity cannot be billed")
        bound = input_bound(*request.sent)
        reservation = await self.ledger.reserve(
            scope,
            request.model,
            bound,
            max_output_tokens=request.max_tokens,
            searches=WEB_SEARCHES_PER_CALL if request.web_search else 0,
        )
        if self.bucket is not None:
            try:
                # The bucket meters what the endpoint's own rate limiter counts: about 4 bytes a token.
                await self.bucket.acquire(bound // 4 + request.max_tokens)
            except BaseException:
                await until_recorded(lambda: self.ledger.release(reservation))
                raise
        try:
            completion = await call(reservation.model)
        except EndpointFault as fault:
            if fault.maybe_billed:
                await self._book_unknown(reservation)
            else:
                await until_recorded(lambda: self.ledger.release(reservation))
            raise fault.error from None
        except BaseException:
            # Cancelled or broken after the request may have gone out: its outcome is unknown.
            await self._book_unknown(reservation)
            raise
        usage, estimated = completion.usage, completion.usage is None
        if usage is None:
            answer = completion.text or completion.refusal or ""
            usage = TokenUsage(
                requests=1,
                input_tokens=approx_tokens("".join(request.sent)),
                output_tokens=approx_tokens(answer),
            )
        cost = await until_recorded(
            lambda: self.ledger.settle(reservation, usage, estimated=estimated, searches=completion.searches)
        )
        record_llm_usage(reservation.model, usage, float(cost))
        if cost > reservation.reserved_usd:
            # Only an endpoint that ignores max_tokens bills more: booked as billed, flagged for the operator.
            log.warning(
                "LLM call billed beyond its reservation",
                extra={
                    "model": reservation.model,
                    "reserved_usd": float(reservation.reserved_usd),
                    "cost_usd": float(cost),
                },
            )
        scope.last_model = reservation.model
        return dataclasses.replace(completion, usage=usage)

    async def _book_unknown(self, reservation: Reservation) -> None:
        cost = await until_recorded(lambda: self.ledger.settle_unknown(reservation))
        record_llm_usage(reservation.model, TokenUsage(requests=1), float(cost))


async def until_recorded(write: Callable[[], Awaitable[R]]) -> R:
    """Run a ledger write until it lands: a paid call must be on the books, and each write is
    idempotent per call id, so trying again never books twice."""
    delay = 0.05
    while True:
        try:
            return await write()
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as err:
            log.warning("recording an LLM call failed; trying again", extra={"error": type(err).__name__})
            await asyncio.sleep(delay)
            delay = min(2 * delay, RECORD_RETRY_CAP_SECONDS)


def model_used(requested: str) -> str:
    """The model the running activity's calls actually used (the economy model after a switch)."""
    scope = current_scope()
    return scope.last_model if scope is not None and scope.last_model else requested


async def open_meter(settings: Settings, wait_seconds: float = 120.0) -> Meter:
    """The worker's meter on its own small pool. The ledger table is worker-default's to create; workers
    start in any order (compose, Kubernetes, `antifragile dev`), so wait a while for its migration."""
    pool = await asyncpg.create_pool(settings.postgres_dsn, min_size=1, max_size=4)
    deadline = time.monotonic() + wait_seconds
    while not await pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns"
        " WHERE table_name = 'llm_costs' AND column_name = 'call_id')"
    ):
        if time.monotonic() > deadline:
            await pool.close()
            raise RuntimeError(
                "table llm_costs is not migrated: start worker-default to migrate the database"
            )
        log.info("waiting for worker-default to migrate the llm_costs table")
        await asyncio.sleep(1.0)
    bucket = TokenBucket(settings.openai_tokens_per_minute) if settings.openai_tokens_per_minute else None
    return Meter(Ledger(pool, settings), bucket)
