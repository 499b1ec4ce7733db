"""Infrastructure faults: which service failed, said without secrets, and waited out instead of fatal.

A worker meets an outage in two places. Inside an activity, `ServiceFaults` turns a connection error of
PostgreSQL or the object store into a retryable ApplicationError that names the service and where it
was tried ("PostgreSQL unreachable at db:5432; retrying (ConnectionRefusedError: ...)"); Temporal
retries it under the contract's policy (see `contracts/timing.py`). At start-up, `until_up` retries
the connection with backoff, so a worker started while a dependency is down waits instead of exiting.

Which service an error belongs to is decided by where it arose: the library modules in its traceback
(asyncpg for PostgreSQL; botocore, aiobotocore and aiohttp for S3), so an OSError from reading a local
file is never blamed on the database.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from .errors import SERVICE_UNAVAILABLE
from .settings import Settings

T = TypeVar("T")
log = logging.getLogger(__name__)

STARTUP_BACKOFF_CAP_SECONDS = 30.0


@dataclass(frozen=True)
class Service:
    """A dependency by name, where it is (never credentials), and the client modules that reach it."""

    name: str
    target: str
    modules: tuple[str, ...] = ()

    def unreachable(self, err: BaseException, retry: str = "retrying") -> str:
        return f"{self.name} unreachable at {self.target}; {retry} ({type(err).__name__}: {str(err)[:200]})"


def postgres_service(settings: Settings) -> Service:
    """PostgreSQL as the DSN names it: host and port, or the socket directory; never user or password."""
    dsn = urlsplit(settings.postgres_dsn)
    socket_dir = parse_qs(dsn.query).get("host", [""])[0]
    target = f"socket {socket_dir}" if socket_dir else f"{dsn.hostname or 'localhost'}:{dsn.port or 5432}"
    return Service("PostgreSQL", target, ("asyncpg",))


def store_service(settings: Settings) -> Service | None:
    """The S3 object store, or None for the directory store (local disk is not a service that blinks)."""
    if settings.s3_bucket is None:
        return None
    where = settings.s3_endpoint_url or f"AWS {settings.s3_region}"
    return Service("S3", f"{where} (bucket {settings.s3_bucket})", ("botocore", "aiobotocore", "aiohttp"))


def temporal_service(settings: Settings) -> Service:
    return Service("Temporal", f"{settings.temporal_address} (namespace {settings.temporal_namespace})")


def connection_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean 'could not reach or lost the service', from the drivers this process has."""
    kinds: list[type[BaseException]] = [OSError, TimeoutError]
    with suppress(ImportError):
        import asyncpg

        kinds += [
            asyncpg.PostgresConnectionError,
            asyncpg.CannotConnectNowError,
            asyncpg.AdminShutdownError,
            asyncpg.CrashShutdownError,
            asyncpg.TooManyConnectionsError,
        ]
    with suppress(ImportError):
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import HTTPClientError

        kinds += [BotoConnectionError, HTTPClientError]
    return tuple(kinds)


def _frames(err: BaseException) -> Iterator[str]:
    """Module names of every frame the error (and what caused it) passed through."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield type(current).__module__
        tb: TracebackType | None = current.__traceback__
        while tb is not None:
            yield tb.tb_frame.f_globals.get("__name__", "")
            tb = tb.tb_next
        current = current.__cause__ or current.__context__


def failed_service(err: BaseException, services: tuple[Service, ...]) -> Service | None:
    """The service whose connection `err` is a failure of, if any."""
    if isinstance(err, ApplicationError) or not isinstance(err, connection_errors()):
        return None
    modules = list(_frames(err))
    for service in services:
        if any(m == p or m.startswith(p + ".") for m in modules for p in service.modules):
            return service
    return None


class ServiceFaults(Interceptor):
    """Activities' connection errors become retryable errors that name the service."""

    def __init__(self, services: tuple[Service, ...]) -> None:
        self.services = services

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ServiceFaultsInbound(next, self.services)


class _ServiceFaultsInbound(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, services: tuple[Service, ...]) -> None:
        super().__init__(next)
        self.services = services

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except Exception as err:
            service = failed_service(err, self.services)
            if service is None:
                raise
            message = service.unreachable(err)
            log.warning(message)
            raise ApplicationError(message, type=SERVICE_UNAVAILABLE) from None


async def until_up(
    service: Service,
    attempt: Callable[[], Awaitable[T]],
    errors: tuple[type[BaseException], ...] | None = None,
) -> T:
    """`attempt()` until it stops failing with a connection error, backing off up to 30 s between tries."""
    errors = errors or connection_errors()
    delay = 1.0
    while True:
        try:
            return await attempt()
        except errors as err:
            log.warning(service.unreachable(err, f"retrying in {delay:g} s"))
            await asyncio.sleep(delay)
            delay = min(delay * 2, STARTUP_BACKOFF_CAP_SECONDS)
