"""The worker's LLM layer: one agent call with a pydantic output type, its token usage, and its
failures mapped to Temporal errors.

Retries belong to Temporal, not to the OpenAI client (`max_retries=0`): a 429 or 5xx becomes a
retryable ApplicationError whose `next_retry_delay` is the server's Retry-After, so the wait is exactly
what the endpoint asked for (the client caps Retry-After at 60 s and otherwise falls back to its own
backoff), every attempt and its reason is visible in the workflow history, no worker slot sleeps
through the wait, and retries do not multiply (client retries × activity attempts). Long documents
keep their finished chunks across attempts through heartbeat checkpoints (see `chunking.py`).
"""

import email.utils
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import openai
from agents import (
    Agent,
    MaxTurnsExceeded,
    ModelBehaviorError,
    ModelSettings,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    Runner,
    WebSearchTool,
    set_tracing_disabled,
    set_tracing_export_api_key,
)
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.errors import LLM_NOT_CONFIGURED, LLM_REQUEST_REJECTED, bad_input
from antifragile_core.metrics import record_llm_rate_limited
from antifragile_core.settings import Settings
from pydantic import BaseModel
from temporalio.exceptions import ApplicationError

if TYPE_CHECKING:
    from .budget import Meter

T = TypeVar("T", bound=BaseModel)

LLM_UNAVAILABLE = "LLMUnavailable"
"""Retryable: rate limited (429), server error (5xx), timeout or connection failure."""
LLM_INVALID_OUTPUT = "LLMInvalidOutput"
"""Retryable: the model's answer did not validate against the output type; sampling again may fix it."""

NOT_CONFIGURED = (
    "No LLM is configured: set OPENAI_API_KEY to use OpenAI, or OPENAI_BASE_URL for an "
    "OpenAI-compatible server (vLLM, Ollama, ...)."
)
_RETRYABLE_STATUS = frozenset({408, 409, 429})
_REJECTED_HINTS = {
    401: "check OPENAI_API_KEY",
    403: "check OPENAI_API_KEY and the model's access",
    404: "check the model name and OPENAI_BASE_URL",
}


def configure_tracing(settings: Settings) -> None:
    """Trace export to OpenAI only when OPENAI_TRACE_EXPORT is set: the exporter posts to
    api.openai.com whatever the base URL is, which must not happen for a private endpoint."""
    export = settings.openai_trace_export
    set_tracing_disabled(not export)
    if export and settings.openai_api_key is not None:
        set_tracing_export_api_key(settings.openai_api_key.get_secret_value())


@dataclass(frozen=True)
class LLM:
    """A Chat Completions client for OpenAI or any compatible endpoint; `client` is None when
    nothing is configured, and every call then fails with LLMNotConfigured."""

    settings: Settings
    client: openai.AsyncOpenAI | None
    meter: "Meter | None" = None
    """Set by the worker: every call is then rate limited, budgeted, priced and recorded."""

    @classmethod
    def from_settings(cls, settings: Settings) -> "LLM":
        configure_tracing(settings)
        if not settings.llm_configured:
            return cls(settings, None)
        # Compatible servers (vLLM, Ollama) ignore the key, but the client insists on one.
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "unused"
        client = openai.AsyncOpenAI(
            api_key=key,
            base_url=settings.openai_base_url,
            max_retries=0,
            timeout=settings.openai_timeout_seconds,
        )
        return cls(settings, client)

    def require_configured(self) -> openai.AsyncOpenAI:
        """The client, or a non-retryable LLMNotConfigured: call it before any other work."""
        if self.client is None:
            raise bad_input(LLM_NOT_CONFIGURED, NOT_CONFIGURED)
        return self.client

    async def run(
        self,
        *,
        name: str,
        instructions: str,
        prompt: str,
        output_type: type[T],
        model: str,
        web_search: bool = False,
    ) -> tuple[T, TokenUsage]:
        """One model call whose answer must validate as `output_type`; returns it and its usage.
        `web_search` adds OpenAI's hosted web search (Responses API; OpenAI's own endpoint only)."""
        client = self.require_configured()
        call = partial(self._call, client, name, instructions, prompt, output_type, web_search=web_search)
        if self.meter is None:
            return await call(model)
        sent = [instructions, prompt, json.dumps(output_type.model_json_schema())]
        return await self.meter.metered(
            model, sent, call, spent_on_failure=lambda err: err.type == LLM_INVALID_OUTPUT
        )

    async def _call(
        self,
        client: openai.AsyncOpenAI,
        name: str,
        instructions: str,
        prompt: str,
        output_type: type[T],
        model: str,
        web_search: bool,
    ) -> tuple[T, TokenUsage]:
        model_class = OpenAIResponsesModel if web_search else OpenAIChatCompletionsModel
        agent = Agent(
            name=name,
            instructions=instructions,
            output_type=output_type,
            model=model_class(model=model, openai_client=client),
            model_settings=ModelSettings(max_tokens=self.settings.llm_max_output_tokens),
            tools=[WebSearchTool()] if web_search else [],
        )
        try:
            result = await Runner.run(agent, prompt, max_turns=1)
        except openai.APIStatusError as exc:
            if exc.status_code == 429:
                record_llm_rate_limited(model)
            raise _status_error(exc) from None
        except openai.APIConnectionError as exc:
            raise ApplicationError(
                f"LLM endpoint unreachable: {type(exc).__name__}", type=LLM_UNAVAILABLE
            ) from None
        except (ModelBehaviorError, MaxTurnsExceeded) as exc:
            raise ApplicationError(
                # Not `exc` itself: its text quotes the answer, which quotes the document.
                f"the model's answer did not fit {output_type.__name__} ({type(exc).__name__})",
                type=LLM_INVALID_OUTPUT,
            ) from None
        usage = result.context_wrapper.usage
        return result.final_output_as(output_type, raise_if_incorrect_type=True), TokenUsage(
            requests=usage.requests, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens
        )


def _status_error(exc: openai.APIStatusError) -> ApplicationError:
    """429/408/409/5xx retry after the server's Retry-After; any other status is a rejection."""
    status = exc.status_code
    if status in _RETRYABLE_STATUS or status >= 500:
        delay = retry_after(exc.response.headers)
        return ApplicationError(
            f"LLM endpoint answered {status}"
            + (f"; retrying after {delay:g} s as asked" if delay is not None else "; retrying"),
            type=LLM_UNAVAILABLE,
            next_retry_delay=timedelta(seconds=delay) if delay is not None else None,
        )
    hint = _REJECTED_HINTS.get(status, "the request is invalid for this endpoint")
    return bad_input(
        LLM_REQUEST_REJECTED, f"LLM endpoint rejected the request ({status}; {hint}): {exc.message[:300]}"
    )


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, or `retry-after` as seconds or a date."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if email.utils.parsedate_tz(value) else None
        return None if when is None else max(0.0, when.timestamp() - time.time())
