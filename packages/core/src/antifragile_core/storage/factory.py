"""Choose the store from settings: S3 when a bucket is configured, else the directory."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from ..faults import store_service, until_up
from ..settings import Settings
from .base import ObjectStore
from .directory import DirectoryStore


def open_store(settings: Settings) -> ObjectStore:
    """An unopened store; use it as `async with open_store(settings) as store:`."""
    if settings.s3_bucket is None:
        return DirectoryStore(settings.storage_dir)
    from .s3 import S3Store  # aioboto3 is the `s3` extra: import it only when S3 is used

    return S3Store(
        settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=_secret(settings.aws_access_key_id),
        secret_access_key=_secret(settings.aws_secret_access_key),
    )


@asynccontextmanager
async def open_store_when_up(settings: Settings) -> AsyncIterator[ObjectStore]:
    """The opened store; a worker started while S3 is unreachable waits for it with backoff."""
    async with AsyncExitStack() as stack:
        service = store_service(settings)

        async def enter() -> ObjectStore:
            return await stack.enter_async_context(open_store(settings))

        yield await (until_up(service, enter) if service is not None else enter())


def _secret(value: object) -> str | None:
    return None if value is None else value.get_secret_value()  # type: ignore[attr-defined]
