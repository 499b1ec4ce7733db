"""send_scheduled_notification against aiosmtpd and a local webhook receiver: delivered once per key,
transient failures retryable, permanent ones not."""

import json
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from antifragile_core.contracts.operations import (
    MAX_MESSAGE_CHARS,
    SEND_SCHEDULED_NOTIFICATION,
    Notification,
    NotificationTarget,
)
from antifragile_testing.local_servers import LocalSite, Route, SmtpServer, free_port
from antifragile_worker_default.notifications import message_id
from antifragile_worker_default.resources import Resources
from temporalio.exceptions import ApplicationError


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[LocalSite]:
    with LocalSite() as site:
        yield site


@pytest_asyncio.fixture
async def res(make_resources: Any, smtp: SmtpServer) -> AsyncIterator[Resources]:
    async with make_resources(
        smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False, smtp_from="ops@antifragile.test"
    ) as res:
        yield res


def email(org_id: str, key: str = "weekly-1", to: tuple[str, ...] = ("ceo@example.com",)) -> Notification:
    return Notification(
        organization_id=org_id,
        idempotency_key=key,
        channel="email",
        recipients=list(to),
        subject="3 new competitor findings",
        body="Acme Corp opens a plant in Lyon.",
    )


def webhook(org_id: str, url: str, key: str = "weekly-1") -> Notification:
    return Notification(
        organization_id=org_id,
        idempotency_key=key,
        channel="webhook",
        webhook_url=url,
        subject="3 new competitor findings",
        body="Acme Corp opens a plant in Lyon.",
    )


async def test_email_is_sent_once_per_key(
    res: Resources, smtp: SmtpServer, org_id: str, run_activity: Any
) -> None:
    msg = email(org_id, to=("ceo@example.com", "Ops <ops@example.com>"))
    first = await run_activity(res, SEND_SCHEDULED_NOTIFICATION, msg)
    again = await run_activity(res, SEND_SCHEDULED_NOTIFICATION, msg)

    assert (first.delivered, first.duplicate) == (True, False)
    assert (again.delivered, again.duplicate) == (True, True)
    (mail,) = smtp.recorder.messages
    assert mail["Subject"] == "3 new competitor findings"
    assert mail["From"] == "ops@antifragile.test"
    assert mail["Message-ID"] == message_id(msg)
    assert "Acme Corp opens a plant in Lyon." in mail.get_payload()
    assert smtp.recorder.envelopes[0].rcpt_tos == ["ceo@example.com", "ops@example.com"]


async def test_a_temporary_smtp_failure_is_retried_and_then_sent_once(
    res: Resources, smtp: SmtpServer, org_id: str, run_activity: Any
) -> None:
    smtp.recorder.tempfail = 1
    with pytest.raises(ApplicationError) as failed:
        await run_activity(res, SEND_SCHEDULED_NOTIFICATION, email(org_id))
    assert not failed.value.non_retryable
    assert "451" in failed.value.message

    retried = await run_activity(res, SEND_SCHEDULED_NOTIFICATION, email(org_id))
    after_delivery = await run_activity(res, SEND_SCHEDULED_NOTIFICATION, email(org_id))
    assert (retried.duplicate, after_delivery.duplicate) == (False, True)
    assert len(smtp.recorder.messages) == 1
    attempts = await res.pool.fetchval(
        "SELECT attempts FROM notification_deliveries WHERE organization_id = $1", org_id
    )
    assert attempts == 3


async def test_a_refused_recipient_is_permanent(
    res: Resources, smtp: SmtpServer, org_id: str, run_activity: Any
) -> None:
    with pytest.raises(ApplicationError) as failed:
        await run_activity(res, SEND_SCHEDULED_NOTIFICATION, email(org_id, to=("reject-me@example.com",)))
    assert failed.value.non_retryable
    assert failed.value.type == "NotificationRejected"
    assert "550" in failed.value.message
    assert smtp.recorder.messages == []


@pytest.mark.parametrize("address", ["not-an-address", "a@b", "two words@example.com"])
async def test_a_malformed_address_is_bad_input(
    res: Resources, smtp: SmtpServer, org_id: str, run_activity: Any, address: str
) -> None:
    with pytest.raises(ApplicationError) as failed:
        await run_activity(res, SEND_SCHEDULED_NOTIFICATION, email(org_id, to=(address,)))
    assert (failed.value.type, failed.value.non_retryable) == ("InvalidInput", True)
    assert (
        await res.pool.fetchval(
            "SELECT count(*) FROM notification_deliveries WHERE organization_id = $1", org_id
        )
        == 0
    )


async def test_email_without_smtp_settings_is_not_configured(
    make_resources: Any, org_id: str, run_activity: Any
) -> None:
    async with make_resources() as res:
        with pytest.raises(ApplicationError) as failed:
            await run_activity(res, SEND_SCHEDULED_NOTIFICATION, email(org_id))
    assert failed.value.non_retryable and "SMTP_HOST" in failed.value.message


async def test_an_unreachable_smtp_server_is_retryable(
    make_resources: Any, org_id: str, run_activity: Any
) -> None:
    async with make_resources(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_starttls=False) as res:
        with pytest.raises(OSError):
            await run_activity(res, SEND_SCHEDULED_NOTIFICATION, email(org_id))


async def test_webhook_posts_slack_json_once_after_a_transient_failure(
    res: Resources, receiver: LocalSite, org_id: str, run_activity: Any
) -> None:
    receiver.routes["/hook"] = Route(b"ok", "text/plain", statuses=deque([503]))
    msg = webhook(org_id, receiver.url("/hook"))
    with pytest.raises(ApplicationError) as failed:
        await run_activity(res, SEND_SCHEDULED_NOTIFICATION, msg)
    assert not failed.value.non_retryable

    delivered = await run_activity(res, SEND_SCHEDULED_NOTIFICATION, msg)
    duplicate = await run_activity(res, SEND_SCHEDULED_NOTIFICATION, msg)
    assert (delivered.duplicate, duplicate.duplicate) == (False, True)
    posts = receiver.hits("/hook", "POST")
    assert [p.status for p in posts] == [503, 200]
    assert all(p.headers["Idempotency-Key"] == "weekly-1" for p in posts)
    assert json.loads(posts[-1].body) == {
        "text": "*3 new competitor findings*\nAcme Corp opens a plant in Lyon."
    }


@pytest.mark.parametrize(("status", "permanent"), [(404, True), (400, True), (429, False), (502, False)])
async def test_webhook_4xx_is_permanent_except_throttling(
    res: Resources, receiver: LocalSite, org_id: str, run_activity: Any, status: int, permanent: bool
) -> None:
    receiver.routes["/hook"] = Route(b"no", "text/plain", status=status)
    with pytest.raises(ApplicationError) as failed:
        await run_activity(res, SEND_SCHEDULED_NOTIFICATION, webhook(org_id, receiver.url("/hook")))
    assert failed.value.non_retryable is permanent
    assert f"HTTP {status}" in failed.value.message


def test_an_oversized_report_is_cut_to_the_message_limit(org_id: str) -> None:
    target = NotificationTarget(channel="email", recipients=["ceo@example.com"])
    msg = target.message(org_id, "k", "subject", "x" * (MAX_MESSAGE_CHARS * 2))
    assert len(msg.body) <= MAX_MESSAGE_CHARS
    assert msg.body.endswith(f"[cut at {MAX_MESSAGE_CHARS - 40} characters]")
