"""send_scheduled_notification: email over SMTP or a Slack-compatible webhook, delivered once per key.

A row keyed by (organisation, idempotency key) is claimed before sending and marked delivered after, so a
retry after delivery sends nothing. The receivers get the key too (an Idempotency-Key header, a Message-ID
derived from it) to drop the rare duplicate of a crash between sending and marking.
"""

import asyncio
import hashlib
import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

import asyncpg
import httpx
from antifragile_core.contracts.operations import (
    SEND_SCHEDULED_NOTIFICATION,
    Notification,
    NotificationReceipt,
)
from antifragile_core.errors import INVALID_INPUT, bad_input
from antifragile_core.settings import Settings
from temporalio.exceptions import ApplicationError

from .outbound import BlockedDestination, PublicOnlyTransport
from .resources import Resources

NOT_CONFIGURED = "NotificationChannelNotConfigured"
REJECTED = "NotificationRejected"


async def claim(pool: asyncpg.Pool, msg: Notification) -> bool:
    """Claim the key for this attempt; False when an earlier attempt already delivered it."""
    status = await pool.fetchval(
        "INSERT INTO notification_deliveries (organization_id, idempotency_key, channel, status)"
        " VALUES ($1, $2, $3, 'sending') ON CONFLICT (organization_id, idempotency_key) DO UPDATE SET"
        " attempts = notification_deliveries.attempts + 1, claimed_at = now(),"
        " status = CASE WHEN notification_deliveries.status = 'delivered' THEN 'delivered' ELSE 'sending' END"
        " RETURNING status",
        msg.organization_id,
        msg.idempotency_key,
        msg.channel,
    )
    return status != "delivered"


async def mark(pool: asyncpg.Pool, msg: Notification, status: str, error: str | None = None) -> None:
    await pool.execute(
        "UPDATE notification_deliveries SET status = $3, error = $4,"
        " delivered_at = CASE WHEN $3 = 'delivered' THEN now() END"
        " WHERE organization_id = $1 AND idempotency_key = $2",
        msg.organization_id,
        msg.idempotency_key,
        status,
        error,
    )


def message_id(msg: Notification) -> str:
    digest = hashlib.sha256(f"{msg.organization_id}\n{msg.idempotency_key}".encode()).hexdigest()[:32]
    return f"<{digest}@antifragile.notifications>"


def check_destination(msg: Notification, settings: Settings) -> None:
    """Bad input and missing configuration fail before anything is claimed or sent."""
    if msg.channel == "webhook":
        if msg.webhook_url is None:
            raise bad_input(INVALID_INPUT, "a webhook notification needs webhook_url")
        return
    if not msg.recipients:
        raise bad_input(INVALID_INPUT, "an email notification needs at least one recipient")
    for recipient in msg.recipients:
        _, address = parseaddr(recipient)
        local, _, domain = address.rpartition("@")
        if not local or "." not in domain or any(c.isspace() for c in address):
            raise bad_input(INVALID_INPUT, f"{recipient!r} is not an email address")
    if settings.smtp_host is None:
        raise bad_input(NOT_CONFIGURED, "email is not configured: set SMTP_HOST (and SMTP_PORT, SMTP_FROM)")


def send_email(settings: Settings, msg: Notification) -> None:
    """Blocking SMTP send (run in a thread); permanent 5xx replies become non-retryable errors."""
    email = EmailMessage()
    email["From"] = settings.smtp_from
    email["To"] = ", ".join(msg.recipients)
    email["Subject"] = msg.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message_id(msg)
    email.set_content(msg.body)
    assert settings.smtp_host is not None
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user and settings.smtp_password:
                smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
            refused = smtp.send_message(email)
    except smtplib.SMTPRecipientsRefused as e:
        raise _smtp_error(e.recipients) from None
    except smtplib.SMTPResponseException as e:
        raise _smtp_error({"": (e.smtp_code, e.smtp_error)}) from None
    if refused:
        # Some recipients took it: a retry would send them a second copy, so report, don't retry.
        raise bad_input(REJECTED, f"delivered, but refused for {sorted(refused)}")


def _smtp_error(replies: dict[str, tuple[int, bytes | str]]) -> ApplicationError:
    codes = [code for code, _ in replies.values()]
    detail = "; ".join(
        f"{who or 'server'}: {code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
        for who, (code, text) in replies.items()
    )
    permanent = all(500 <= code < 600 for code in codes)
    return ApplicationError(
        f"SMTP refused: {detail}", type=REJECTED if permanent else "SMTPTemporary", non_retryable=permanent
    )


async def send_webhook(settings: Settings, msg: Notification) -> None:
    """POST Slack-compatible JSON; 4xx (but 408/429) is permanent, 5xx and network faults are retried."""
    payload = {"text": f"*{msg.subject}*\n{msg.body}"}
    headers = {"Idempotency-Key": msg.idempotency_key, "User-Agent": settings.scan_user_agent}
    transport = PublicOnlyTransport(settings.outbound_allowed_networks)
    async with httpx.AsyncClient(transport=transport, timeout=settings.webhook_timeout_seconds) as client:
        try:
            response = await client.post(str(msg.webhook_url), json=payload, headers=headers)
        except BlockedDestination as e:
            raise bad_input(REJECTED, str(e)) from None
    if response.is_success:
        return
    detail = f"webhook answered HTTP {response.status_code}: {response.text[:200]}"
    if 400 <= response.status_code < 500 and response.status_code not in {408, 429}:
        raise bad_input(REJECTED, detail)
    raise ApplicationError(detail, type="WebhookUnavailable")


def activities(res: Resources) -> list[Callable[..., Any]]:
    @SEND_SCHEDULED_NOTIFICATION.implement
    async def send_scheduled_notification(msg: Notification) -> NotificationReceipt:
        check_destination(msg, res.settings)
        receipt = NotificationReceipt(
            idempotency_key=msg.idempotency_key, channel=msg.channel, delivered=True, duplicate=False
        )
        if not await claim(res.pool, msg):
            receipt.duplicate = True
            return receipt
        try:
            if msg.channel == "email":
                await asyncio.to_thread(send_email, res.settings, msg)
            else:
                await send_webhook(res.settings, msg)
        except ApplicationError as e:
            await mark(res.pool, msg, "failed", e.message)
            raise
        await mark(res.pool, msg, "delivered")
        return receipt

    return [send_scheduled_notification]
