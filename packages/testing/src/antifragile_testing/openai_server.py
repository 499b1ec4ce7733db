"""A local OpenAI-compatible HTTP server: answers chat completions from the request's JSON schema.

It is a real HTTP server (stdlib `http.server`, one thread per request) so the OpenAI client, its
retries and its error handling run unchanged. Answers are built from the words of the request's
messages, shaped by `response_format.json_schema.schema`, with token counts of what was really sent and
answered. Each test gets its own path prefix (`/<scope>/v1`), so its fault script and request log are
its own even while an earlier test's activity is still finishing.
"""

import contextlib
import json
import math
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from .local_servers import LoopbackHTTPServer

_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"[^\W\d_]{3,}")


def count_tokens(text: str) -> int:
    """The server's own token count: words and punctuation marks."""
    return len(_TOKEN.findall(text))


BEHAVIOURS = frozenset(
    {"fenced", "prefixed", "truncated", "refusal", "bad_enum", "missing_field", "no_usage", "huge"}
)
"""How a real endpoint misbehaves with status 200: JSON in ```json fences or after a sentence, an answer
cut off at `max_tokens` (finish_reason "length"), a refusal (`message.refusal`, no content), a field
outside its enum or a required field missing, no `usage`, and one string field of `size` characters."""


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour: the HTTP status to answer after `delay` seconds, an optional
    Retry-After, or with status 200 one of BEHAVIOURS (none: content cut off mid-JSON)."""

    status: int
    retry_after: float | None = None
    message: str = "scripted fault"
    behaviour: str | None = None
    delay: float = 0.0
    size: int = 0
    answer: str | None = None
    """With behaviour "answer": the content to send, verbatim."""


@dataclass(frozen=True)
class RecordedRequest:
    """What the server received, when (time.monotonic()), and the status it answered."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    received_at: float
    status: int
    response: dict[str, Any] | None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    def text_of(self, role: str) -> str:
        return "\n".join(_content_text(m.get("content")) for m in self.messages if m.get("role") == role)


@dataclass
class ServerScope:
    """One test's view of the server: its base URL, its fault script and its request log."""

    base_url: str
    requests: list[RecordedRequest] = field(default_factory=list)
    _faults: deque[Fault | None] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script_faults(
        self,
        status: int,
        count: int = 1,
        *,
        retry_after: float | None = None,
        after: int = 0,
        message: str = "scripted fault",
    ) -> None:
        """Answer `count` chat requests with `status` (and Retry-After when given), once `after`
        further requests have been answered normally; scripts queue up behind earlier ones.
        `status=200` answers with content that does not parse, as a cut-off model would."""
        self._script(Fault(status, retry_after, message), count, after)

    def script(
        self, behaviour: str, count: int = 1, *, after: int = 0, delay: float = 0.0, size: int = 0
    ) -> None:
        """Answer `count` chat requests with one of BEHAVIOURS, or with `behaviour="slow"` a normal
        answer `delay` seconds late (past the client's timeout, the outcome is unknown to it)."""
        if behaviour not in BEHAVIOURS | {"slow"}:
            raise ValueError(f"unknown behaviour {behaviour!r}; one of {sorted(BEHAVIOURS)} or 'slow'")
        self._script(
            Fault(200, behaviour=behaviour, delay=delay, size=size),
            count,
            after,
        )

    def script_answer(self, answer: dict[str, Any]) -> None:
        """Answer the next chat request with exactly `answer` as its JSON content: what a model said, for
        tests of how the worker checks it (citations, attributions)."""
        self._script(Fault(200, behaviour="answer", answer=json.dumps(answer)), 1, 0)

    def script_slow_fault(self, status: int, delay: float, count: int = 1) -> None:
        """Answer `count` requests with `status` after `delay` seconds: the request was sent and worked on."""
        self._script(Fault(status, delay=delay), count, 0)

    def _script(self, fault: Fault, count: int, after: int) -> None:
        with self._lock:
            self._faults.extend([None] * after)
            self._faults.extend([fault] * count)

    @property
    def completions(self) -> list[RecordedRequest]:
        """The chat-completion requests that were answered successfully, in order."""
        return [r for r in self.requests if r.path.endswith("/chat/completions") and r.status == 200]

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)


class OpenAICompatibleServer(LoopbackHTTPServer):
    """The HTTP server on 127.0.0.1; `scope()` hands out per-test views."""

    def __init__(self) -> None:
        self._scopes: dict[str, ServerScope] = {}
        super().__init__(_handler_for(self), "openai-server")

    def scope(self) -> ServerScope:
        """A fresh scope with its own base URL (`http://127.0.0.1:PORT/<scope>/v1`)."""
        name = uuid.uuid4().hex[:12]
        scope = ServerScope(base_url=f"{self.root_url}/{name}/v1")
        self._scopes[name] = scope
        return scope

    def _scope_of(self, path: str) -> tuple[ServerScope | None, str]:
        name, _, rest = path.lstrip("/").partition("/")
        return self._scopes.get(name), "/" + rest


def _handler_for(server: OpenAICompatibleServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: request lines would only clutter test output."""

        def do_GET(self) -> None:
            scope, route = server._scope_of(self.path)
            if scope is None or route != "/v1/models":
                self._send(HTTPStatus.NOT_FOUND, _error("no such route", "not_found"))
                return
            models = [
                {"id": "local-schema-model", "object": "model", "created": 0, "owned_by": "antifragile"}
            ]
            self._send(HTTPStatus.OK, {"object": "list", "data": models})

        def do_POST(self) -> None:
            received_at = time.monotonic()
            scope, route = server._scope_of(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if scope is None or route != "/v1/chat/completions":
                self._send(HTTPStatus.NOT_FOUND, _error("no such route", "not_found"))
                return
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                body = {}
            fault = scope._next_fault()
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            status, payload, headers = _answer(body, fault)
            scope._record(
                RecordedRequest(
                    path=route,
                    body=body,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    received_at=received_at,
                    status=status,
                    response=payload if status == 200 else None,
                )
            )
            self._send(status, payload, headers)

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            # The client may have given up waiting (its timeout): what it missed is in the request log.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

    return Handler


def _answer(body: dict[str, Any], fault: Fault | None) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, JSON body and extra headers for one chat-completion request."""
    if fault is not None and fault.status != 200:
        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
        return fault.status, _error(fault.message, f"http_{fault.status}"), headers
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not body.get("model"):
        return 400, _error("'model' and a non-empty 'messages' list are required", "invalid_request"), {}
    if body.get("stream"):
        return 400, _error("this server does not stream", "invalid_request"), {}
    texts = [(m.get("role"), _content_text(m.get("content"))) for m in messages if isinstance(m, dict)]
    prompt = "\n".join(text for _, text in texts)
    # Answers are made of the user's words (the document), not the instructions'.
    words = _Words("\n".join(text for role, text in texts if role == "user") or prompt)
    response_format = body.get("response_format") or {}
    behaviour = fault.behaviour if fault is not None else None
    finish_reason, refusal = "stop", None
    if response_format.get("type") == "json_schema":
        schema = response_format["json_schema"]["schema"]
        content: str | None = _misshapen(instance_for(schema, words), schema, fault)
        if fault is not None and fault.answer is not None:
            content = fault.answer
        if fault is not None and fault.status == 200 and behaviour in (None, "truncated"):
            content = content[: len(content) // 2]
            finish_reason = "length" if behaviour == "truncated" else "stop"
    else:
        content = words.take(12)
    if behaviour == "refusal":
        # Real refusals often echo the request; this one repeats the document's words.
        content, refusal = None, f"I can't help with {words.take(8)}."
    elif behaviour == "fenced":
        content = f"```json\n{content}\n```"
    elif behaviour == "prefixed":
        content = f"Here is the JSON you asked for:\n{content}"
    prompt_tokens, completion_tokens = count_tokens(prompt), count_tokens(content or refusal or "")
    payload: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
            }
        ],
    }
    if behaviour != "no_usage":
        payload["usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
    return 200, payload, {}


def _misshapen(answer: Any, schema: dict[str, Any], fault: Fault | None) -> str:
    """The answer as JSON, with the scripted schema fault applied to its first matching field."""
    behaviour = fault.behaviour if fault is not None else None
    if isinstance(answer, dict) and behaviour in ("bad_enum", "missing_field", "huge"):
        properties = schema.get("properties", {})
        if behaviour == "missing_field":
            answer.pop(next(iter(answer)))
        elif behaviour == "bad_enum":
            name = next(n for n, p in properties.items() if "enum" in p or "const" in p)
            answer[name] = "not-one-of-the-options"
        else:
            name = next(n for n, v in answer.items() if isinstance(v, str))
            answer[name] = ("lorem ipsum " * (fault.size // 12 + 1))[: fault.size]  # type: ignore[union-attr]
    return json.dumps(answer)


def _error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code, "param": None}}


def _content_text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


class _Words:
    """A cursor over the prompt's words, so each generated field carries different words of the input."""

    def __init__(self, text: str) -> None:
        self._words = _WORD.findall(text) or ["empty"]
        self._at = 0

    def take(self, n: int) -> str:
        picked = [self._words[(self._at + i) % len(self._words)] for i in range(n)]
        self._at += n
        return " ".join(picked)

    def number(self) -> int:
        """A number derived from the next word, to pick enum members and numeric values."""
        return sum(map(ord, self.take(1)))


def instance_for(schema: dict[str, Any], words: _Words, root: dict[str, Any] | None = None) -> Any:
    """A JSON value that validates against `schema` (objects, arrays, strings, numbers, enums,
    $defs/$ref, anyOf/oneOf/allOf, const, nullable type lists), filled with the prompt's words."""
    root = schema if root is None else root
    if "$ref" in schema:
        return instance_for(_resolve(schema["$ref"], root), words, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        options = schema["enum"]
        return options[words.number() % len(options)]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = schema[key]
            non_null = [o for o in options if o.get("type") != "null"] or options
            return instance_for(non_null[0], words, root)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            part = _resolve(part["$ref"], root) if "$ref" in part else part
            merged = _merge_schemas(merged, part)
        return instance_for(merged, words, root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    return _BUILDERS[kind](schema, words, root)


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _merge_schemas(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    merged = a | b
    if "properties" in a or "properties" in b:
        merged["properties"] = a.get("properties", {}) | b.get("properties", {})
        merged["required"] = [*a.get("required", []), *b.get("required", [])]
    return merged


def _object(schema: dict[str, Any], words: _Words, root: dict[str, Any]) -> dict[str, Any]:
    # Strict structured outputs list every property as required; fill them all.
    return {name: instance_for(sub, words, root) for name, sub in schema.get("properties", {}).items()}


def _array(schema: dict[str, Any], words: _Words, root: dict[str, Any]) -> list[Any]:
    low = schema.get("minItems", 0)
    high = schema.get("maxItems", max(low, 3))
    count = max(low, min(high, 3))
    items = schema.get("items", {"type": "string"})
    if "prefixItems" in schema:
        prefix = schema["prefixItems"]
        return [instance_for(s, words, root) for s in prefix] + [
            instance_for(items, words, root) for _ in range(max(0, count - len(prefix)))
        ]
    return [instance_for(items, words, root) for _ in range(count)]


def _string(schema: dict[str, Any], words: _Words, root: dict[str, Any]) -> str:
    text = words.take(6)
    low, high = schema.get("minLength", 1), schema.get("maxLength")
    while len(text) < low:
        text += " " + words.take(6)
    return text if high is None else text[:high].rstrip() or text[:high]


def _number(schema: dict[str, Any], words: _Words, *, integer: bool) -> float | int:
    step = 1 if integer else 0.01
    low = schema.get("minimum", schema["exclusiveMinimum"] + step if "exclusiveMinimum" in schema else None)
    high = schema.get("maximum", schema["exclusiveMaximum"] - step if "exclusiveMaximum" in schema else None)
    if low is None and high is None:
        low, high = 0, 100
    elif low is None:
        low = high - 100
    elif high is None:
        high = low + 100
    value = low + (high - low) * (words.number() % 101) / 100
    if integer:
        return min(max(round(value), math.ceil(low)), math.floor(high))
    return min(max(round(value, 2), low), high)


_BUILDERS = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": lambda schema, words, root: _number(schema, words, integer=True),
    "number": lambda schema, words, root: _number(schema, words, integer=False),
    "boolean": lambda schema, words, root: words.number() % 2 == 0,
    "null": lambda schema, words, root: None,
}
