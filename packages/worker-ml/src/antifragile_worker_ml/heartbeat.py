"""Heartbeats while a long blocking step (importing the ML stack, loading a model) holds the activity."""

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from temporalio import activity

INTERVAL_SECONDS = 1.0


@contextmanager
def keepalive() -> Iterator[None]:
    """Heartbeat from a helper thread until the block ends.

    It re-sends the details the previous attempt left (its checkpoint key): Temporal keeps only the last
    heartbeat's details, so an empty heartbeat here would lose the resume point if this attempt crashed too.
    """
    details = activity.info().heartbeat_details
    context = contextvars.copy_context()  # the activity context lives in context variables
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(INTERVAL_SECONDS):
            context.run(activity.heartbeat, *details)

    activity.heartbeat(*details)
    helper = threading.Thread(target=beat, name="keepalive", daemon=True)
    helper.start()
    try:
        yield
    finally:
        stop.set()
        helper.join()
