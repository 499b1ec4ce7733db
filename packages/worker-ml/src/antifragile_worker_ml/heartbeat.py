"""Heartbeats from a helper thread, so long blocking steps (imports, model loading, a slow training step,
a checkpoint upload) never look like a dead worker."""

import contextvars
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from temporalio import activity

INTERVAL_SECONDS = 1.0


class Heartbeat:
    """The activity's heartbeat: `send` records the latest details, the helper thread repeats them.

    It starts from the details the previous attempt left (its checkpoint key): Temporal keeps only the last
    heartbeat's details, so an empty heartbeat would lose the resume point if this attempt crashed too.
    The heartbeat timeout then detects a dead worker process; a hung one is bounded by start-to-close.
    """

    def __init__(self) -> None:
        self.details: tuple[Any, ...] = tuple(activity.info().heartbeat_details)

    def send(self, *details: Any) -> None:
        self.details = details
        activity.heartbeat(*details)

    @contextmanager
    def kept_alive(self) -> Iterator["Heartbeat"]:
        context = contextvars.copy_context()  # the activity context lives in context variables
        stop = threading.Event()

        def repeat() -> None:
            while not stop.wait(INTERVAL_SECONDS):
                context.run(activity.heartbeat, *self.details)

        self.send(*self.details)
        helper = threading.Thread(target=repeat, name="heartbeat", daemon=True)
        helper.start()
        try:
            yield self
        finally:
            stop.set()
            helper.join()


def keepalive() -> AbstractContextManager[Heartbeat]:
    """Heartbeat the previous attempt's details until the block ends."""
    return Heartbeat().kept_alive()
