"""NoticeWorkflow: deliver one notification on behalf of a client (the API telling a participant that
their turn is open). Started under an id derived from the notice, so asking twice sends once; Temporal
retries the delivery, and the activity's idempotency key keeps a retried send from arriving twice."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.operations import (
        SEND_SCHEDULED_NOTIFICATION,
        Notification,
        NotificationReceipt,
    )

from .calls import call


@workflow.defn
class NoticeWorkflow:
    @workflow.run
    async def run(self, notification: Notification) -> NotificationReceipt:
        return await call(SEND_SCHEDULED_NOTIFICATION, notification)
