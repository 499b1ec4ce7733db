"""What a participant's link allows: read the session, answer their own turn, contribute once."""

from typing import Annotated

from antifragile_core.contracts.collective import Contribution
from antifragile_core.errors import INVALID_LINK
from fastapi import APIRouter, Depends

from .. import links, sessions
from ..context import Ctx
from ..links import LinkError, ParticipantGrant
from ..problems import Problem
from ..sessions import AnswerAccepted, AnswerIn, ContributionText, ParticipantView

router = APIRouter(prefix="/v1/participant", tags=["participants"])


def get_grant(token: str, ctx: Ctx) -> ParticipantGrant:
    try:
        return links.verify(ctx.signing_secret, token)
    except LinkError as err:
        raise Problem(403, str(err), INVALID_LINK) from None


Grant = Annotated[ParticipantGrant, Depends(get_grant)]


@router.get("/{token}")
async def read_session(grant: Grant, ctx: Ctx) -> ParticipantView:
    return await sessions.participant_view(ctx, grant)


@router.post("/{token}/answer", status_code=202)
async def answer(body: AnswerIn, grant: Grant, ctx: Ctx) -> AnswerAccepted:
    """Answer the link's participant's open catchball turn: 409 when it is not their turn."""
    return await sessions.answer_turn(ctx, grant, body)


@router.post("/{token}/contribute", status_code=201)
async def contribute(body: ContributionText, grant: Grant, ctx: Ctx) -> Contribution:
    """Contribute to the wisdom round as the link's participant, once."""
    return await sessions.contribute(ctx, grant, body)
