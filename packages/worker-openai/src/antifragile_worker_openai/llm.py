"""The worker's LLM layer: one structured request, its answer classified, its cost metered.

Requests go through the `openai` client directly (Chat Completions; the Responses API when hosted web
search is on) rather than through the Agents SDK's runner: every call here is one turn with no tools of
ours, and the runner hides what a real endpoint's answer must be judged by — `finish_reason` (a
cut-off), `message.refusal`, the raw content (fenced JSON) and the usage of a call whose answer failed.

Every answer is one of: valid; recoverable formatting (JSON in fences or after a sentence: read, not
asked again); cut off at `max_tokens` (asked once more with a higher limit, up to the most a valid
answer can need, then non-retryable LLMTruncated); refused (non-retryable LLMRefused, summarised, never
quoted); not the schema (asked once more, then non-retryable LLMInvalidOutput naming the field). Asking
again happens here, inside the attempt, so an invalid answer is never retried on the long policy meant
for outages. Endpoint faults (429, 5xx, timeouts, connection failures) are retryable LLMUnavailable
errors whose delay is the server's Retry-After; the client itself never retries (`max_retries=0`), so
every attempt and its reason is in the workflow history.
"""

import dataclasses
import email.utils
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import openai
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.errors import (
    LLM_INVALID_OUTPUT,
    LLM_NOT_CONFIGURED,
    LLM_REFUSED,
    LLM_REQUEST_REJECTED,
    LLM_TRUNCATED,
    LLM_UNAVAILABLE,
    bad_input,
)
from antifragile_core.metrics import record_llm_rate_limited
from antifragile_core.settings import Settings
from pydantic import BaseModel
from temporalio.exceptions import ApplicationError

from .answers import InvalidAnswer, parse_answer, refusal_reason
from .schema import answer_ceiling, strict_schema
from .tokens import approx_tokens

if TYPE_CHECKING:
    from .budget import Meter

T = TypeVar("T", bound=BaseModel)

NOT_CONFIGURED = (
    "No LLM is configured: set OPENAI_API_KEY to use OpenAI, or OPENAI_BASE_URL for an "
    "OpenAI-compatible server (vLLM, Ollama, ...)."
)
WEB_SEARCHES_PER_CALL = 3
"""Hosted searches one research call may run (`max_tool_calls`); each is billed, so each is reserved."""
_NOT_PROCESSED_STATUS = frozenset({408, 409, 429, 503})
"""Answers that say the request was turned away before any work: retryable, and not billed. Any other
5xx came after the request was taken, so it may have been billed."""
_NEVER_SENT = frozenset({"ConnectError", "ConnectTimeout", "PoolTimeout"})
"""Transport failures before the request left, by name: the openai client's transport library varies
by version (httpx, httpx2), its exception names do not. Nothing can have been billed."""
_REJECTED_HINTS = {
    401: "check OPENAI_API_KEY",
    403: "check OPENAI_API_KEY and the model's access",
    404: "check the model name and OPENAI_BASE_URL",
}


@dataclass(frozen=True)
class Completion:
    """What the endpoint answered to one request, before it is read as the output type."""

    text: str
    refusal: str | None
    truncated: bool
    usage: TokenUsage | None
    """None when the endpoint reported no usage."""
    searches: int = 0


class EndpointFault(Exception):
    """A request that got no answer: the error for Temporal, and whether the call may have been billed."""

    def __init__(self, error: ApplicationError, *, maybe_billed: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.maybe_billed = maybe_billed


@dataclass(frozen=True)
class Request:
    """One structured request; `sent` is every text it carries, for the cost bound and estimates."""

    model: str
    instructions: str
    prompt: str
    output_type: type[BaseModel]
    schema: dict[str, Any]
    max_tokens: int
    web_search: bool

    @property
    def sent(self) -> list[str]:
        return [self.instructions, self.prompt, json.dumps(self.schema)]


@dataclass(frozen=True)
class LLM:
    """A client for OpenAI or any compatible endpoint; `client` is None when nothing is configured,
    and every call then fails with LLMNotConfigured."""

    settings: Settings
    client: openai.AsyncOpenAI | None
    meter: "Meter | None" = None
    """Set by the worker: every call is then rate limited, budgeted, priced and recorded."""

    @classmethod
    def from_settings(cls, settings: Settings) -> "LLM":
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
        check: Callable[[T], None] | None = None,
    ) -> tuple[T, TokenUsage]:
        """The model's answer as `output_type`, and the usage of every request it took. `web_search`
        adds OpenAI's hosted web search (Responses API; OpenAI's own endpoint only). `check` raises
        InvalidAnswer for an answer that fits the schema but not the request; it is asked again like a
        schema mismatch. `name` says what the call is for in errors."""
        client = self.require_configured()
        schema = strict_schema(output_type)
        settings = self.settings
        # The most a valid answer can need, within what the context leaves after the request.
        room = settings.openai_context_tokens - approx_tokens(instructions + prompt)
        longest = answer_ceiling(schema)
        ceiling = max(1, min(longest, room))
        request = Request(
            model,
            instructions,
            prompt,
            output_type,
            schema,
            min(settings.llm_max_output_tokens, ceiling),
            web_search,
        )
        spent = TokenUsage()
        for asked in (1, 2):
            completion = await self._send(client, request)
            spent += (completion.usage or TokenUsage()) + TokenUsage(web_searches=completion.searches)
            if completion.refusal is not None:
                raise bad_input(
                    LLM_REFUSED,
                    f"The model refused the {name} ({refusal_reason(completion.refusal)}; not quoted, as it "
                    "may repeat the document). Asking again gets the same answer: review the material, or "
                    "use another model (OPENAI_MODEL or the activity's OPENAI_MODEL_<ACTIVITY>).",
                )
            if completion.truncated:
                if asked == 1 and request.max_tokens < ceiling:
                    request = dataclasses.replace(request, max_tokens=min(ceiling, 2 * request.max_tokens))
                    continue
                raise bad_input(
                    LLM_TRUNCATED,
                    f"The {name} answer was cut off at max_tokens={request.max_tokens} (finish_reason "
                    f"'length'). Raise LLM_MAX_OUTPUT_TOKENS (now {settings.llm_max_output_tokens}), "
                    f"or lower OPENAI_CONTEXT_TOKENS (now {settings.openai_context_tokens}) so documents are "
                    "read in smaller parts that leave the answer more room.",
                )
            try:
                answer = parse_answer(completion.text, output_type)
                if check is not None:
                    check(answer)
                return answer, spent
            except InvalidAnswer as invalid:
                if len(completion.text) > longest:
                    # Longer than any valid answer: the endpoint ignored max_tokens, and would again.
                    raise bad_input(
                        LLM_INVALID_OUTPUT,
                        f"The {name} answer did not fit {output_type.__name__}: {invalid}. At "
                        f"{len(completion.text):,} characters it is longer than any valid answer "
                        f"({longest:,}), so the endpoint ignored max_tokens={request.max_tokens}: check the "
                        "endpoint and model (OPENAI_BASE_URL, OPENAI_MODEL).",
                    ) from None
                if asked == 2:
                    raise bad_input(
                        LLM_INVALID_OUTPUT,
                        f"The {name} answer did not fit {output_type.__name__} twice in a row: {invalid}. "
                        "The model does not follow the schema: use one that supports structured outputs "
                        "(OPENAI_MODEL or the activity's OPENAI_MODEL_<ACTIVITY>).",
                    ) from None
        raise AssertionError("unreachable: the second answer returns or raises")

    async def _send(self, client: openai.AsyncOpenAI, request: Request) -> Completion:
        """One request, metered when the worker has a meter; an endpoint fault raises its error."""
        if self.meter is None:
            try:
                return await _request(client, request, self.settings)
            except EndpointFault as fault:
                raise fault.error from None
        return await self.meter.metered(
            request, lambda model: _request(client, dataclasses.replace(request, model=model), self.settings)
        )


async def _request(client: openai.AsyncOpenAI, request: Request, settings: Settings) -> Completion:
    try:
        if request.web_search:
            return await _responses(client, request)
        return await _chat(client, request)
    except openai.APIStatusError as exc:
        if exc.status_code == 429:
            record_llm_rate_limited(request.model)
        raise _status_fault(exc) from None
    except openai.APITimeoutError as exc:
        raise EndpointFault(
            ApplicationError(
                "LLM endpoint did not answer within "
                f"OPENAI_TIMEOUT_SECONDS={settings.openai_timeout_seconds:g} (a call that was sent is "
                "charged at its reservation: it may have been billed). If this persists, raise the "
                "timeout or check the endpoint's load.",
                type=LLM_UNAVAILABLE,
            ),
            maybe_billed=not _never_sent(exc),
        ) from None
    except openai.APIConnectionError as exc:
        raise EndpointFault(
            ApplicationError(
                f"LLM endpoint unreachable ({type(exc.__cause__ or exc).__name__}); check OPENAI_BASE_URL "
                "and the endpoint's health.",
                type=LLM_UNAVAILABLE,
            ),
            maybe_billed=not _never_sent(exc),
        ) from None


async def _chat(client: openai.AsyncOpenAI, request: Request) -> Completion:
    response = await client.chat.completions.create(
        model=request.model,
        messages=[
            {"role": "system", "content": request.instructions},
            {"role": "user", "content": request.prompt},
        ],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": request.output_type.__name__, "schema": request.schema, "strict": True},
        },
        max_tokens=request.max_tokens,
    )
    usage = response.usage
    reported = (
        TokenUsage(requests=1, input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens)
        if usage is not None
        else None
    )
    if not response.choices:
        return Completion(text="", refusal=None, truncated=False, usage=reported)
    choice = response.choices[0]
    refusal = choice.message.refusal
    if choice.finish_reason == "content_filter" and refusal is None:
        refusal = "withheld by the provider's content filter"
    return Completion(
        text=choice.message.content or "",
        refusal=refusal,
        truncated=choice.finish_reason == "length",
        usage=reported,
    )


async def _responses(client: openai.AsyncOpenAI, request: Request) -> Completion:
    response = await client.responses.create(
        model=request.model,
        instructions=request.instructions,
        input=request.prompt,
        tools=[{"type": "web_search"}],
        max_tool_calls=WEB_SEARCHES_PER_CALL,
        max_output_tokens=request.max_tokens,
        text={
            "format": {
                "type": "json_schema",
                "name": request.output_type.__name__,
                "schema": request.schema,
                "strict": True,
            }
        },
    )
    refusals = [
        part.refusal
        for item in response.output
        if item.type == "message"
        for part in item.content
        if part.type == "refusal"
    ]
    incomplete = response.incomplete_details.reason if response.incomplete_details else None
    if incomplete == "content_filter" and not refusals:
        refusals = ["withheld by the provider's content filter"]
    usage = response.usage
    return Completion(
        text=response.output_text,
        refusal=refusals[0] if refusals else None,
        truncated=incomplete == "max_output_tokens",
        usage=TokenUsage(requests=1, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)
        if usage is not None
        else None,
        searches=sum(1 for item in response.output if item.type == "web_search_call"),
    )


def _never_sent(exc: openai.APIConnectionError) -> bool:
    return any(cls.__name__ in _NEVER_SENT for cls in type(exc.__cause__).__mro__)


def _status_fault(exc: openai.APIStatusError) -> EndpointFault:
    """408/409/429/5xx wait for the server's Retry-After and retry; any other status is a rejection.
    The message states the fault only: the retry policy, not this attempt, decides what comes next."""
    status = exc.status_code
    if status in _NOT_PROCESSED_STATUS or status >= 500:
        delay = retry_after(exc.response.headers)
        asked = f", asking to wait {delay:g} s" if delay is not None else ""
        return EndpointFault(
            ApplicationError(
                f"LLM endpoint answered {status}{asked}. If this persists, check the endpoint's health "
                "and rate limits (OPENAI_BASE_URL, OPENAI_TOKENS_PER_MINUTE).",
                type=LLM_UNAVAILABLE,
                next_retry_delay=timedelta(seconds=delay) if delay is not None else None,
            ),
            maybe_billed=status not in _NOT_PROCESSED_STATUS,
        )
    hint = _REJECTED_HINTS.get(status, "the request is invalid for this endpoint")
    return EndpointFault(
        bad_input(
            LLM_REQUEST_REJECTED, f"LLM endpoint rejected the request ({status}; {hint}): {exc.message[:300]}"
        ),
        maybe_billed=False,
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
