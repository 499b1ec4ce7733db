"""Heartbeats that prove an async activity's worker is alive, so a killed worker is noticed in seconds.

Temporal notices a dead worker only through a missed heartbeat (else after the whole start-to-close).
An activity's own heartbeats come at its own pace (per chunk, per batch) or not at all; this
interceptor repeats the latest ones — at first the previous attempt's, which carry its resume point —
every third of the heartbeat timeout while the activity's coroutine runs. A hung activity still
heartbeats, so it is bounded by start-to-close; a dead process stops at once. Sync activities (worker-ml)
keep their own helper thread (`antifragile_worker_ml.heartbeat`).
"""

import asyncio
import inspect
from collections.abc import Sequence
from typing import Any

from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)


class HeartbeatKeepalive(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _KeepaliveInbound(next)


class _LastDetails(ActivityOutboundInterceptor):
    """Passes heartbeats on and remembers the latest details."""

    def __init__(self, next: ActivityOutboundInterceptor, first: Sequence[Any]) -> None:
        super().__init__(next)
        self.details = tuple(first)

    def heartbeat(self, *details: Any) -> None:
        self.details = details
        super().heartbeat(*details)


class _KeepaliveInbound(ActivityInboundInterceptor):
    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        self.outbound = _LastDetails(outbound, outbound.info().heartbeat_details)
        super().init(self.outbound)

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        timeout = self.outbound.info().heartbeat_timeout
        if not timeout or not inspect.iscoroutinefunction(input.fn):
            return await super().execute_activity(input)
        keepalive = asyncio.create_task(self._beat(timeout.total_seconds() / 3))
        try:
            return await super().execute_activity(input)
        finally:
            keepalive.cancel()

    async def _beat(self, every: float) -> None:
        while True:
            self.outbound.heartbeat(*self.outbound.details)
            await asyncio.sleep(every)
