"""Errors as RFC 9457 problem details: `type`, `title`, `status`, `detail`, plus the activity's error
type (`error_type`) so a client can act on it the way the CLI does."""

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
from antifragile_core import errors
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError, RPCStatusCode

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)

STATUS_OF: dict[str, int] = {
    errors.NOT_FOUND: 404,
    errors.INVALID_INPUT: 422,
    errors.UNSUPPORTED_TYPE: 415,
    errors.ENCRYPTED_DOCUMENT: 422,
    errors.CORRUPT_DOCUMENT: 422,
    errors.EMPTY_DOCUMENT: 422,
    errors.DOCUMENT_TOO_LARGE: 413,
    errors.NOT_READY: 409,
    errors.LLM_NOT_CONFIGURED: 503,
    errors.LLM_REQUEST_REJECTED: 422,
    errors.LLM_UNAVAILABLE: 503,
    errors.LLM_REFUSED: 422,
    errors.BUDGET_EXCEEDED: 402,
    errors.NOT_ACCEPTED: 409,
    errors.INVALID_LINK: 403,
}
"""HTTP status per activity error type; any other failure of the work itself is a 502."""


class Problem(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(self, status: int, detail: str, error_type: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.error_type = status, detail, error_type


def problem(status: int, detail: str, error_type: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:antifragile:error:{error_type}" if error_type else "about:blank",
        "title": error_type or _reason(status),
        "status": status,
        "detail": detail,
    }
    if error_type:
        body["error_type"] = error_type
    return JSONResponse(body | extra, status_code=status, media_type=MEDIA_TYPE)


def _reason(status: int) -> str:
    return HTTPStatus(status).phrase


def _root_cause(err: BaseException) -> BaseException:
    while isinstance(err, WorkflowFailureError | ActivityError) and err.cause is not None:
        err = err.cause
    return err


def install(app: FastAPI) -> None:
    """Answer every error the app raises as a problem document."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, err: Problem) -> JSONResponse:
        return problem(err.status, err.detail, err.error_type)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, err: HTTPException) -> JSONResponse:
        return problem(err.status_code, str(err.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        issues = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in err.errors()]
        detail = "; ".join(f"{'.'.join(map(str, i['loc']))}: {i['msg']}" for i in issues)
        return problem(422, detail, errors.INVALID_INPUT, errors=issues)

    @app.exception_handler(ValidationError)
    async def _model_invalid(request: Request, err: ValidationError) -> JSONResponse:
        return problem(422, str(err), errors.INVALID_INPUT)

    @app.exception_handler(WorkflowFailureError)
    async def _failed(request: Request, err: WorkflowFailureError) -> JSONResponse:
        cause = _root_cause(err)
        if isinstance(cause, ApplicationError) and cause.type:
            return problem(STATUS_OF.get(cause.type, 502), cause.message, cause.type)
        return problem(502, str(cause))

    @app.exception_handler(WorkflowUpdateFailedError)
    async def _refused(request: Request, err: WorkflowUpdateFailedError) -> JSONResponse:
        cause = err.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
        return problem(409, message, errors.NOT_ACCEPTED)

    @app.exception_handler(RPCError)
    async def _rpc(request: Request, err: RPCError) -> JSONResponse:
        if err.status == RPCStatusCode.NOT_FOUND:
            return problem(404, "not found in this organisation", errors.NOT_FOUND)
        return problem(503, f"Temporal is unavailable: {err.message}")

    @app.exception_handler(asyncpg.UndefinedTableError)
    async def _no_schema(request: Request, err: asyncpg.UndefinedTableError) -> JSONResponse:
        return problem(503, "the document tables are missing: start worker-default, which creates them")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("request failed", extra={"route": getattr(request.scope.get("route"), "path", None)})
        return problem(500, "the API failed on this request; its log says why")
