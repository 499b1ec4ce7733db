"""Tracing is off by default; with an OTLP endpoint set, workflow and activity spans reach the collector."""

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.runtime import build_worker, connect
from antifragile_core.settings import Settings
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from temporalio import activity, workflow
from temporalio.worker import UnsandboxedWorkflowRunner


@activity.defn(name="traced_echo")
async def traced_echo(text: str) -> str:
    return text


@workflow.defn
class TracedWorkflow:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(
            "traced_echo", text, result_type=str, start_to_close_timeout=timedelta(seconds=10)
        )


class Collector(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver on loopback that keeps the span names it is sent."""

    def __init__(self) -> None:
        self.span_names: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                collector.span_names += [
                    span.name
                    for spans in request.resource_spans
                    for scope in spans.scope_spans
                    for span in scope.spans
                ]
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


async def test_tracing_is_off_without_an_endpoint(worker_settings: Callable[..., Settings]) -> None:
    client = await connect(worker_settings())
    assert client.config()["interceptors"] == []


async def test_workflow_and_activity_spans_reach_the_otlp_endpoint(
    worker_settings: Callable[..., Settings], collector: Collector
) -> None:
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
    settings = worker_settings(otel_exporter_otlp_endpoint=endpoint, otel_service_name="worker-test")
    client = await connect(settings)
    worker = build_worker(
        client,
        settings,
        DEFAULT_QUEUE,
        activities=[traced_echo],
        workflows=[TracedWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    async with worker:
        result = await client.execute_workflow(
            TracedWorkflow.run, "hello", id=f"traced-{uuid.uuid4()}", task_queue=worker.task_queue
        )
    assert result == "hello"
    provider = trace.get_tracer_provider()
    assert provider.force_flush(timeout_millis=10_000)
    provider.shutdown()
    assert {
        "StartWorkflow:TracedWorkflow",
        "RunWorkflow:TracedWorkflow",
        "StartActivity:traced_echo",
        "RunActivity:traced_echo",
    } <= set(collector.span_names)
