"""Creating a Temporal Schedule idempotently: the CLI and the onboarding step both use this."""

from temporalio.client import (
    Client,
    Schedule,
    ScheduleAlreadyRunningError,
    ScheduleUpdate,
    ScheduleUpdateInput,
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
