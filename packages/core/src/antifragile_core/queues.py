"""Task-queue names: a public interface shared by workflows, workers and deployment.

A fleet may carry a prefix (TASK_QUEUE_PREFIX) so that several fleets, or several tests, share one
Temporal namespace; workflows and activities derive it from the queue they run on.
"""

DEFAULT_QUEUE = "default-queue"
ML_QUEUE = "ml-queue"
OPENAI_QUEUE = "openai-queue"

ALL_QUEUES = (DEFAULT_QUEUE, ML_QUEUE, OPENAI_QUEUE)


def fleet_prefix(task_queue: str) -> str:
    """The prefix of the fleet that `task_queue` belongs to ('' for the standard names)."""
    for queue in ALL_QUEUES:
        if task_queue.endswith(queue):
            return task_queue.removesuffix(queue)
    raise ValueError(f"{task_queue!r} is not one of the fleet's queues {ALL_QUEUES}")


def in_fleet(queue: str, running_on: str) -> str:
    """The real name of `queue` in the fleet whose queue `running_on` is."""
    return fleet_prefix(running_on) + queue
