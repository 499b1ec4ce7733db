"""Connecting to Temporal and running a worker until SIGTERM, the same way in every worker.

Every worker gets the deployment features from here: Prometheus metrics and tracing on the client,
health endpoints, fleet gauges and a graceful drain around the run.
"""

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Executor
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any, NoReturn

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from .faults import ServiceFaults, postgres_service, store_service, temporal_service, until_up
from .health import Probe, WorkerHealth, serve_health
from .keepalive import HeartbeatKeepalive
from .metrics import fleet_gauges, telemetry_runtime
from .settings import Settings
from .single_use import ExitAfterActivities
from .tracing import tracing_interceptors
from .versioning import deployment_config

log = logging.getLogger(__name__)


async def connect(settings: Settings) -> Client:
    """A client with the pydantic data converter, the only converter used on the wire.

    With METRICS_PORT set it exports Prometheus metrics; with OTEL_EXPORTER_OTLP_ENDPOINT set it traces,
    and workers built on it inherit the tracing interceptor.
    """
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        api_key=api_key,
        tls=settings.temporal_tls or api_key is not None,
        runtime=telemetry_runtime(settings),
        interceptors=tracing_interceptors(settings),
    )


async def connect_when_up(settings: Settings) -> Client:
    """`connect`, waiting with backoff while Temporal is unreachable (a worker started before it)."""
    return await until_up(temporal_service(settings), lambda: connect(settings), errors=(RuntimeError,))


class FleetWorker(Worker):
    """A Worker that keeps the settings it was built from, for its health endpoints, gauges and drain, and
    its activity count when it is single-use (EXIT_AFTER_ACTIVITIES)."""

    def __init__(
        self,
        client: Client,
        *,
        settings: Settings,
        single_use: ExitAfterActivities | None = None,
        **options: Any,
    ) -> None:
        super().__init__(client, **options)
        self.settings = settings
        self.single_use = single_use


def build_worker(
    client: Client,
    settings: Settings,
    queue: str,
    *,
    activities: Sequence[Callable[..., Any]] = (),
    workflows: Sequence[type] = (),
    activity_executor: Executor | None = None,
    **options: Any,
) -> FleetWorker:
    """A worker on `queue` of this fleet (the settings' prefix applied). Every activity heartbeats while
    alive and reports an unreachable PostgreSQL or S3 by name (see `keepalive.py`, `faults.py`)."""
    services = tuple(s for s in (postgres_service(settings), store_service(settings)) if s is not None)
    interceptors = [ServiceFaults(services), HeartbeatKeepalive(), *options.pop("interceptors", ())]
    single_use = None
    if settings.exit_after_activities is not None:
        single_use = ExitAfterActivities(settings.exit_after_activities)
        interceptors.append(single_use)
    return FleetWorker(
        client,
        settings=settings,
        single_use=single_use,
        task_queue=settings.task_queue_prefix + queue,
        activities=activities,
        workflows=workflows,
        activity_executor=activity_executor,
        max_concurrent_activities=settings.max_concurrent_activities,
        graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_seconds),
        interceptors=interceptors,
        deployment_config=deployment_config(settings, queue),
        **options,
    )


async def run_until_signalled(worker: FleetWorker, probes: dict[str, Probe] | None = None) -> None:
    """Run `worker` until SIGTERM or SIGINT, then drain in-flight activities and stop; `probes` are the
    dependencies /readyz checks besides Temporal (name -> a call that fails while it is down).

    On the signal the worker stops polling and gives running activities GRACEFUL_SHUTDOWN_SECONDS to
    finish; those still running are then cancelled and retried by Temporal on another worker.
    /readyz turns 503 for the drain while /livez keeps answering, so the pod is not killed early.
    A single-use worker that stopped itself then waits for a final metrics scrape (`wait_for_final_scrape`).
    """
    settings = worker.settings
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    health = WorkerHealth(worker, probes or {})
    fields = {"task_queue": worker.task_queue}
    async with AsyncExitStack() as stack:
        if settings.health_port is not None:
            await stack.enter_async_context(serve_health(health, settings.health_port))
        if settings.metrics_port is not None:
            gauges = fleet_gauges(
                worker.client, worker.task_queue, health.ready, settings.metrics_interval_seconds
            )
            await stack.enter_async_context(gauges)
        async with worker:
            log.info("worker started", extra=fields)
            await stop.wait()
            used_up = worker.single_use is not None and worker.single_use.done
            health.draining = True
            log.info("worker draining", extra=fields | {"timeout_s": settings.graceful_shutdown_seconds})
        if used_up:
            await wait_for_final_scrape(settings, fields)
    log.info("worker stopped", extra=fields)


async def wait_for_final_scrape(settings: Settings, fields: dict[str, str]) -> None:
    """Keep serving /metrics (and /readyz: draining) METRICS_FINAL_SCRAPE_SECONDS after a single-use worker
    has finished its activities and drained, so that Prometheus scrapes the final counters.

    Prometheus pulls: a Job's worker that exits the moment its training fails is gone before the next
    scrape, and the failure never reaches the MLTrainingFailures alert. Lingering more than two scrape
    intervals gives at least two scrapes of the final counters, so one failed scrape loses nothing; the
    cost is an idle pod for that long after a training of hours. A Pushgateway, Prometheus' tool for
    service-level batch jobs, would be one more server (and single point of failure) to run, keeps every
    pushed group until something deletes it (one per Job, forever), and the SDK's exporter only serves
    pulls, so something would have to re-read and push it. A worker stopped from outside (an eviction)
    does not linger: its pod's grace period is for the drain.
    """
    seconds = settings.metrics_final_scrape_seconds
    if settings.metrics_port is None or seconds == 0:
        return
    log.info("worker waiting for a final metrics scrape", extra=fields | {"seconds": seconds})
    await asyncio.sleep(seconds)


def run_process(main: Coroutine[Any, Any, None]) -> NoReturn:
    """Run a worker process's `main` to completion, then exit without interpreter finalization."""
    code = 0
    try:
        asyncio.run(main)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        log.exception("worker failed")
        code = 1
    exit_now(code)


def exit_now(code: int) -> NoReturn:
    """Flush and leave at once, skipping interpreter finalization: for any process that used a client.

    Temporal's native runtime threads can still call into Python while the interpreter finalizes, which
    aborts the process ("PyGILState_Release ... finalizing") after a clean run and turns exit code 0
    into SIGABRT (134). Once a process's work has returned nothing is left to finalize.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
