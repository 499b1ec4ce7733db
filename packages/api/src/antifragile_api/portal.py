"""The web portal: server-rendered pages (Jinja2) made live with htmx, over the same functions as the API.

An organisation's people sign in with their key (kept in an HttpOnly, SameSite=Strict cookie, so other
sites cannot send it); participants need only their link.
"""

from pathlib import Path
from typing import Annotated, Any

from antifragile_core.contracts.training import CHECK_TRAINING_JOB_STATUS, TrainingJobRef
from antifragile_core.errors import INVALID_LINK
from antifragile_workflows.management import manage
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from . import batches, links, sessions
from .context import KEY_COOKIE, Ctx, get_caller
from .keys import Caller, authenticate
from .links import LinkError, ParticipantGrant
from .problems import Problem
from .sessions import AnswerIn, ContributionText

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


class SignInRequired(Exception):
    """A portal page was opened without a valid key cookie: send the browser to the sign-in page."""


async def portal_caller(request: Request, ctx: Ctx) -> Caller:
    try:
        return await get_caller(request, ctx)
    except Problem:
        raise SignInRequired from None


Signed = Annotated[Caller, Depends(portal_caller)]


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status_code)


@router.get("/")
async def home(request: Request, ctx: Ctx) -> Response:
    key = request.cookies.get(KEY_COOKIE)
    if key and await authenticate(ctx.pool, key):
        return RedirectResponse("/portal/documents", status_code=303)
    return page(request, "sign_in.html")


@router.post("/sign-in")
async def sign_in(request: Request, ctx: Ctx, key: Annotated[str, Form()]) -> Response:
    if await authenticate(ctx.pool, key.strip()) is None:
        return page(request, "sign_in.html", 401, error="That key is not valid (or was revoked).")
    response = RedirectResponse("/portal/documents", status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(KEY_COOKIE, key.strip(), httponly=True, samesite="strict", secure=secure)
    return response


@router.post("/sign-out")
async def sign_out() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(KEY_COOKIE)
    return response


@router.get("/portal/documents")
async def documents_page(request: Request, ctx: Ctx, caller: Signed, offset: int = 0) -> HTMLResponse:
    listing = await batches.list_documents(ctx.pool, caller.organization_id, max(offset, 0), 50)
    return page(
        request, "documents.html", caller=caller, listing=listing, max_bytes=ctx.settings.max_document_bytes
    )


@router.get("/portal/documents/{document_id}")
async def document_page(request: Request, document_id: str, ctx: Ctx, caller: Signed) -> HTMLResponse:
    detail = await batches.read_document(ctx, caller.organization_id, document_id)
    return page(request, "document.html", caller=caller, detail=detail)


@router.get("/portal/batches/{batch_id}")
async def batch_fragment(request: Request, batch_id: str, ctx: Ctx, caller: Signed) -> HTMLResponse:
    batch = await batches.read_batch(ctx, caller.organization_id, batch_id)
    return page(request, "_batch.html", batch=batch)


@router.get("/portal/training/{job_id}")
async def training_page(request: Request, job_id: str, ctx: Ctx, caller: Signed) -> HTMLResponse:
    job = await manage(
        ctx.client,
        ctx.queue,
        CHECK_TRAINING_JOB_STATUS,
        TrainingJobRef(organization_id=caller.organization_id, job_id=job_id),
    )
    template = "_training.html" if request.headers.get("hx-request") else "training.html"
    return page(request, template, caller=caller, job=job)


def _grant(ctx: Ctx, token: str) -> ParticipantGrant:
    try:
        return links.verify(ctx.signing_secret, token)
    except LinkError as err:
        raise Problem(403, str(err), INVALID_LINK) from None


@router.get("/p/{token}")
async def participant_page(request: Request, token: str, ctx: Ctx) -> HTMLResponse:
    try:
        grant = _grant(ctx, token)
    except Problem as err:
        return page(request, "link_refused.html", err.status, reason=err.detail)
    view = await sessions.participant_view(ctx, grant)
    template = "_participant.html" if request.headers.get("hx-request") else "participant.html"
    return page(request, template, view=view, token=token, message=None)


@router.post("/p/{token}/answer")
async def participant_answer(
    request: Request,
    token: str,
    ctx: Ctx,
    feedback: Annotated[str, Form()] = "",
    agree: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    grant = _grant(ctx, token)
    try:
        await sessions.answer_turn(ctx, grant, AnswerIn(feedback=feedback.strip() or None, agree=agree))
        message = "Your answer was taken; the statement is being refined."
    except (WorkflowUpdateFailedError, ValueError) as err:
        message = f"Not taken: {_reason(err)}"
    view = await sessions.participant_view(ctx, grant)
    return page(request, "_participant.html", view=view, token=token, message=message)


@router.post("/p/{token}/contribute")
async def participant_contribute(
    request: Request, token: str, ctx: Ctx, text: Annotated[str, Form()] = ""
) -> HTMLResponse:
    grant = _grant(ctx, token)
    try:
        accepted = await sessions.contribute(ctx, grant, ContributionText(text=text.strip()))
        message = f"Thank you: your answer is recorded as {accepted.contribution_id}."
    except (WorkflowUpdateFailedError, ValueError) as err:
        message = f"Not taken: {_reason(err)}"
    view = await sessions.participant_view(ctx, grant)
    return page(request, "_participant.html", view=view, token=token, message=message)


def _reason(err: Exception) -> str:
    cause = getattr(err, "cause", None)
    if isinstance(cause, ApplicationError):
        return cause.message
    if hasattr(err, "errors"):  # pydantic: the first problem, in words
        return str(err.errors()[0]["msg"])  # type: ignore[attr-defined]
    return str(err)


async def to_sign_in(request: Request, err: Exception) -> Response:
    return RedirectResponse("/", status_code=303)
