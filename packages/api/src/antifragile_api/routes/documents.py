"""Uploads, batches and documents."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from .. import batches
from ..batches import BatchRequest, BatchStarted, BatchView, DocumentDetail, DocumentPage, StagedUpload
from ..context import Ctx, Member
from ..uploads import read_files

router = APIRouter(prefix="/v1", tags=["documents"])

MULTIPART_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                }
            }
        },
    }
}


@router.post("/uploads", status_code=201, openapi_extra=MULTIPART_BODY)
async def upload(request: Request, ctx: Ctx, caller: Member) -> list[StagedUpload]:
    """Stage files (multipart/form-data) for a batch; each is refused once past MAX_DOCUMENT_BYTES."""
    staged = []
    content_type = request.headers.get("content-type", "")
    async for file in read_files(content_type, request.stream(), ctx.settings.max_document_bytes):
        staged.append(await batches.stage_upload(ctx, caller.organization_id, file))
    return staged


@router.post("/batches", status_code=202)
async def start_batch(body: BatchRequest, ctx: Ctx, caller: Member) -> BatchStarted:
    """Process staged uploads: extraction, storage, summary and analysis, then training readiness."""
    return await batches.start_batch(ctx, caller.organization_id, body.upload_ids)


@router.get("/batches/{batch_id}")
async def read_batch(batch_id: str, ctx: Ctx, caller: Member) -> BatchView:
    return await batches.read_batch(ctx, caller.organization_id, batch_id)


@router.get("/documents")
async def list_documents(
    ctx: Ctx,
    caller: Member,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DocumentPage:
    return await batches.list_documents(ctx.pool, caller.organization_id, offset, limit)


@router.get("/documents/{document_id}")
async def read_document(document_id: str, ctx: Ctx, caller: Member) -> DocumentDetail:
    return await batches.read_document(ctx, caller.organization_id, document_id)
