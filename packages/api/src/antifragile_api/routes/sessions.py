"""Catchball and wisdom sessions, as the organisation starts and follows them."""

from antifragile_workflows.catchball import CatchballState
from fastapi import APIRouter

from .. import sessions
from ..context import Ctx, Member
from ..sessions import CatchballStart, SessionStarted, WisdomStart, WisdomView

router = APIRouter(prefix="/v1", tags=["sessions"])


@router.post("/catchball", status_code=201)
async def start_catchball(body: CatchballStart, ctx: Ctx, caller: Member) -> SessionStarted:
    """Start a catchball; each participant answers their turns from the link returned for them."""
    return await sessions.start_catchball(ctx, caller.organization_id, body)


@router.get("/catchball/{session_id}")
async def read_catchball(session_id: str, ctx: Ctx, caller: Member) -> CatchballState:
    return await sessions.catchball_state(ctx, caller.organization_id, session_id)


@router.post("/wisdom", status_code=201)
async def start_wisdom(body: WisdomStart, ctx: Ctx, caller: Member) -> SessionStarted:
    """Start a wisdom round; it is synthesised at the quorum or the deadline, whichever comes first."""
    return await sessions.start_wisdom(ctx, caller.organization_id, body)


@router.get("/wisdom/{session_id}")
async def read_wisdom(session_id: str, ctx: Ctx, caller: Member) -> WisdomView:
    return await sessions.wisdom_view(ctx, caller.organization_id, session_id)
