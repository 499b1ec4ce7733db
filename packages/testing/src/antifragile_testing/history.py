"""What a workflow's history weighs, run by run across continue-as-new: the figure that must stay bounded."""

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client


async def run_sizes(client: Client, workflow_id: str, first_run_id: str) -> list[tuple[int, int]]:
    """(history bytes as the server counts them, largest event bytes) of each run, first to last."""
    sizes, run_id = [], first_run_id
    while run_id:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        info = (await handle.describe()).raw_description.workflow_execution_info
        largest, run_id = 0, ""
        async for event in handle.fetch_history_events():
            largest = max(largest, event.ByteSize())
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                run_id = event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        sizes.append((info.history_size_bytes, largest))
    return sizes
