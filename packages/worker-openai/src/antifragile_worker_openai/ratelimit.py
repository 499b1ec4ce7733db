"""A per-worker token budget per minute: a small async token bucket in front of every LLM call.

Temporal's task-queue rate limit (OPENAI_QUEUE_ACTIVITIES_PER_SECOND) caps activity starts across all
workers; it cannot see that one activity sends 200 tokens and another 20 000. This bucket holds each
worker to OPENAI_TOKENS_PER_MINUTE so a burst of long prompts waits here instead of earning 429s.
"""

import asyncio
import time


class TokenBucket:
    """`per_minute` tokens, refilled continuously; `acquire(n)` waits until `n` are available."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = per_minute
        self._tokens = float(per_minute)
        self._rate = per_minute / 60.0
        self._updated = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now

    async def acquire(self, tokens: int) -> float:
        """Take `tokens` (at most the capacity: a larger call waits for a full bucket); returns the
        seconds waited. Callers queue in arrival order behind the lock."""
        need = min(tokens, self.capacity)
        waited = 0.0
        async with self._lock:
            self._refill()
            while self._tokens < need:
                delay = (need - self._tokens) / self._rate
                await asyncio.sleep(delay)
                waited += delay
                self._refill()
            self._tokens -= need
        return waited
