"""Telling a participant that their turn is open, with their own link, through send_scheduled_notification
(a NoticeWorkflow per notice, its id derived from the notice so a repeat sends nothing).

Targets are kept per session in PostgreSQL; the link is signed afresh for each notice and never stored.
Notices follow what the API sees: the session's start and each accepted answer. A turn opened by a
deadline passing (the AI drafted the silent participant's turn) sends no notice.
"""

import hashlib
import logging

from antifragile_core.contracts.operations import NotificationTarget
from antifragile_workflows.notices import NoticeWorkflow
from temporalio.exceptions import WorkflowAlreadyStartedError

from .context import ApiContext
from .links import SessionKind

log = logging.getLogger(__name__)


async def remember_targets(
    ctx: ApiContext, organization_id: str, workflow_id: str, targets: dict[str, NotificationTarget]
) -> None:
    await ctx.pool.executemany(
        "INSERT INTO api_notice_targets (workflow_id, organization_id, participant, target)"
        " VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT DO NOTHING",
        [(workflow_id, organization_id, name, t.model_dump_json()) for name, t in targets.items()],
    )


async def notify_turn(
    ctx: ApiContext,
    kind: SessionKind,
    organization_id: str,
    session_id: str,
    workflow_id: str,
    participant: str,
    occasion: str,
    message: str,
) -> None:
    """Send `participant` their link with `message`, once per `occasion`, if they gave a target."""
    raw = await ctx.pool.fetchval(
        "SELECT target FROM api_notice_targets WHERE workflow_id = $1 AND participant = $2",
        workflow_id,
        participant,
    )
    if raw is None:
        return
    url = ctx.participant_url(kind, organization_id, session_id, participant)
    key = hashlib.sha256(f"{workflow_id}\0{occasion}\0{participant}".encode()).hexdigest()
    notice = NotificationTarget.model_validate_json(raw).message(
        organization_id, key, f"Your turn: {kind}", f"{message}\n\nYour link (keep it to yourself): {url}\n"
    )
    notice_id = f"api-notice-{key}"
    try:
        await ctx.client.start_workflow(NoticeWorkflow.run, notice, id=notice_id, task_queue=ctx.queue)
    except WorkflowAlreadyStartedError:
        log.info("notice already sent", extra={"workflow_id": workflow_id, "occasion": occasion})
