"""Sending each participant of an API-started session their own link, once, when the session starts,
through send_scheduled_notification (a NoticeWorkflow per notice, its id derived from the notice so a
repeat sends nothing).

The link is signed for the notice and never stored. That a catchball turn is open is announced by the
workflow itself, whatever opened it (an answer or a deadline), without the link.
"""

import hashlib
import logging

from antifragile_core.contracts.operations import NotificationTarget
from antifragile_workflows.notices import NoticeWorkflow
from temporalio.exceptions import WorkflowAlreadyStartedError

from .context import ApiContext
from .links import SessionKind

log = logging.getLogger(__name__)


async def send_link(
    ctx: ApiContext,
    kind: SessionKind,
    organization_id: str,
    session_id: str,
    workflow_id: str,
    participant: str,
    target: NotificationTarget,
    message: str,
) -> None:
    """Send `participant` their link with `message`, once per session."""
    url = ctx.participant_url(kind, organization_id, session_id, participant)
    key = hashlib.sha256(f"{workflow_id}\0link\0{participant}".encode()).hexdigest()
    notice = target.message(
        organization_id, key, f"Your link: {kind}", f"{message}\n\nYour link (keep it to yourself): {url}\n"
    )
    try:
        await ctx.client.start_workflow(
            NoticeWorkflow.run, notice, id=f"api-notice-{key}", task_queue=ctx.queue
        )
    except WorkflowAlreadyStartedError:
        log.info("link already sent", extra={"workflow_id": workflow_id})
