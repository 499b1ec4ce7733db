"""What every request needs, opened once per process: settings, the database pool, a Temporal client and
the object store; and the request dependencies that resolve the caller from their credential."""

from dataclasses import dataclass
from typing import Annotated

import asyncpg
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.settings import Settings
from antifragile_core.storage import ObjectStore
from fastapi import Depends, Request
from temporalio.client import Client

from . import links
from .keys import Caller, authenticate
from .links import SessionKind
from .problems import Problem

KEY_COOKIE = "antifragile_key"


@dataclass
class ApiContext:
    settings: Settings
    pool: asyncpg.Pool
    client: Client
    store: ObjectStore

    @property
    def queue(self) -> str:
        """The fleet's default queue, where every workflow runs."""
        return self.settings.task_queue_prefix + DEFAULT_QUEUE

    @property
    def signing_secret(self) -> bytes:
        if self.settings.api_signing_secret is None:
            raise Problem(503, "participant links need API_SIGNING_SECRET; ask the operator to set it")
        return self.settings.api_signing_secret.get_secret_value().encode()

    @property
    def public_url(self) -> str:
        url = self.settings.api_public_url or f"http://{self.settings.api_host}:{self.settings.api_port}"
        return url.rstrip("/")

    def participant_url(self, kind: SessionKind, organization_id: str, session_id: str, name: str) -> str:
        """A fresh signed link for one participant of one session."""
        hours = self.settings.api_link_hours
        token = links.grant_for(self.signing_secret, kind, session_id, organization_id, name, hours)
        return f"{self.public_url}/p/{token}"


def get_context(request: Request) -> ApiContext:
    return request.app.state.context


Ctx = Annotated[ApiContext, Depends(get_context)]


async def get_caller(request: Request, ctx: Ctx) -> Caller:
    """The caller of a bearer key (API clients) or of the portal's key cookie (browsers)."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer":
        key = request.cookies.get(KEY_COOKIE, "")
    caller = await authenticate(ctx.pool, key.strip()) if key else None
    if caller is None:
        raise Problem(401, "send an organisation API key as 'Authorization: Bearer afk_...'")
    return caller


async def get_admin(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
    if caller.role != "admin":
        raise Problem(403, "this needs an admin key of the organisation")
    return caller


Member = Annotated[Caller, Depends(get_caller)]
Admin = Annotated[Caller, Depends(get_admin)]
