"""An activity contract: everything a workflow needs to call an activity it never imports."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints
from temporalio import activity
from temporalio.common import RetryPolicy

I = TypeVar("I", bound=BaseModel)  # noqa: E741
O = TypeVar("O", bound=BaseModel)  # noqa: E741
F = TypeVar("F", bound=Callable[..., Any])

OrgId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
"""Organisation ids are used in object keys and row scopes, so they are kept to a safe alphabet."""


class Model(BaseModel):
    """Base of every payload: strict about unknown fields so contract drift fails loudly."""

    model_config = ConfigDict(extra="forbid")


DEFAULT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,
)


@dataclass(frozen=True)
class ActivityContract(Generic[I, O]):
    """Name, queue, types and timing of one activity; implemented by exactly one worker."""

    name: str
    queue: str
    input: type[I]
    output: type[O]
    start_to_close: timedelta
    retry: RetryPolicy = field(default_factory=lambda: DEFAULT_RETRY)
    heartbeat: timedelta | None = None
    schedule_to_close: timedelta | None = None

    def implement(self, fn: F) -> F:
        """Register `fn` as this contract's activity (the decorator workers use)."""
        return activity.defn(name=self.name)(fn)
