"""OpenTelemetry tracing through temporalio's contrib: off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.

The exporter lives in the optional extra `antifragile-core[tracing]`, so workers without it stay slim;
setting the endpoint without the extra is a configuration error, said at start-up.
"""

import functools
from typing import Any

from .settings import Settings


def tracing_interceptors(settings: Settings) -> list[Any]:
    """The client/worker interceptors that trace workflows and activities, or none when tracing is off."""
    if settings.otel_exporter_otlp_endpoint is None:
        return []
    try:
        from temporalio.contrib.opentelemetry import TracingInterceptor
    except ImportError as err:
        raise RuntimeError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but tracing is not installed: "
            "install antifragile-core[tracing] (the images do)"
        ) from err
    _install_tracer_provider(settings.otel_exporter_otlp_endpoint, settings.otel_service_name)
    return [TracingInterceptor()]


@functools.cache
def _install_tracer_provider(endpoint: str, service_name: str) -> None:
    # Once per process: OpenTelemetry's global provider can be set only once.
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces"))
    )
    trace.set_tracer_provider(provider)
