"""A worker that stops after a number of activities (EXIT_AFTER_ACTIVITIES), for one Kubernetes Job per
training: the Job ends when its activity does (after a last metrics scrape, see
`runtime.wait_for_final_scrape`), so no scale-down ever has to pick a pod to stop."""

import os
import signal
from typing import Any

from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor


class ExitAfterActivities(Interceptor):
    """Sends this process SIGTERM once `limit` activities have finished: the usual drain then stops the
    worker (it polls no further) and the process exits 0."""

    def __init__(self, limit: int) -> None:
        self.remaining = limit

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountFinished(next, self)

    @property
    def done(self) -> bool:
        """All `limit` activities have finished (the process has sent itself SIGTERM)."""
        return self.remaining <= 0

    def finished(self) -> None:
        self.remaining -= 1
        if self.remaining == 0:
            os.kill(os.getpid(), signal.SIGTERM)


class _CountFinished(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, owner: ExitAfterActivities) -> None:
        super().__init__(next)
        self.owner = owner

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        finally:
            self.owner.finished()
