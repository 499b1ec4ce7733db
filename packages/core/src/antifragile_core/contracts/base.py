"""An activity contract: everything a workflow needs to call an activity it never imports."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints
from temporalio import activity
from temporalio.common import RetryPolicy

from .timing import Timing

I = TypeVar("I", bound=BaseModel)  # noqa: E741
O = TypeVar("O", bound=BaseModel)  # noqa: E741
F = TypeVar("F", bound=Callable[..., Any])

OrgId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
"""Organisation ids are used in object keys and row scopes, so they are kept to a safe alphabet."""


class Model(BaseModel):
    """Base of every payload: strict about unknown fields so contract drift fails loudly."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ActivityContract(Generic[I, O]):
    """Name, queue, types and timing of one activity; implemented by exactly one worker."""

    name: str
    queue: str
    input: type[I]
    output: type[O]
    timing: Timing
    """Timeouts and retry, chosen from `timing.py`, where each choice is argued."""

    @property
    def start_to_close(self) -> timedelta:
        return self.timing.start_to_close

    @property
    def schedule_to_close(self) -> timedelta:
        return self.timing.schedule_to_close

    @property
    def heartbeat(self) -> timedelta:
        return self.timing.heartbeat

    @property
    def retry(self) -> RetryPolicy:
        return self.timing.retry

    def implement(self, fn: F) -> F:
        """Register `fn` as this contract's activity (the decorator workers use)."""
        return activity.defn(name=self.name)(fn)
