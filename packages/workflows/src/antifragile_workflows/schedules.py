"""Temporal Schedules of the fleet: how they are shaped, and creating one idempotently (the CLI and the
onboarding step both do)."""

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from antifragile_core.queues import DEFAULT_QUEUE
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)


def calendar_schedule(
    run: Any,
    arg: Any,
    *,
    schedule_id: str,
    task_queue_prefix: str,
    calendar: ScheduleCalendarSpec,
    note: str,
    paused: bool = False,
    jitter: timedelta | None = None,
) -> Schedule:
    """Start `run(arg)` on the fleet's default queue at `calendar`; a run still going skips the next."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            run,
            arg,
            id=schedule_id,
            task_queue=task_queue_prefix + DEFAULT_QUEUE,
            execution_timeout=timedelta(hours=2),
        ),
        spec=ScheduleSpec(calendars=[calendar], jitter=jitter),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(paused=paused, note=note),
    )


async def upsert_schedule(client: Client, schedule_id: str, schedule: Schedule) -> bool:
    """Create the schedule, or replace its action, timing and policy while keeping whether it is paused
    (an operator's pause outlives a re-run of onboarding). True when it was created now."""
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        def keep_state(current: ScheduleUpdateInput) -> ScheduleUpdate:
            schedule.state = current.description.schedule.state
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(keep_state)
        return False
    return True
