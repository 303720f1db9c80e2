"""A fake OpenAI-compatible chat completions server for tests.

It listens on 127.0.0.1 (a free port) in a thread and answers
``POST /v1/chat/completions``. By default it returns valid JSON built from the
request's schema and data: the first enum value of every enum (the first category
id), one finding per cited paper id, the first sentence of the first ``<paper>``
block's abstract (or takeaway) for every text field, and title words as keywords.
A test scripts faults or answers with ``script(...)``; every request is recorded.

    with FakeOpenAI() as fake:                 # or the ``fake_openai`` fixture
        fake.script(rate_limited(retry_after=1), valid())
        settings = LLMSettings(api_key="sk-test", base_url=fake.base_url, ...)
        ...
        assert len(fake.requests) == 2

A scripted item is a ``Reply`` or a function ``(request) -> Reply``; items are used
in order, one per request, then the default answers again. ``reject_json_schema``
makes the server behave like one without structured output.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Handler = Callable[["RecordedRequest"], "Reply"]


@dataclass
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def system_text(self) -> str:
        return "\n".join(m["content"] for m in self.messages if m.get("role") == "system")

    @property
    def user_text(self) -> str:
        return "\n".join(m["content"] for m in self.messages if m.get("role") == "user")

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def response_format(self) -> dict[str, Any]:
        return dict(self.body.get("response_format") or {})

    @property
    def schema(self) -> dict[str, Any] | None:
        """The JSON schema the answer must match: from response_format or the prompt."""
        fmt = self.response_format
        if fmt.get("type") == "json_schema":
            return dict(fmt["json_schema"]["schema"])
        found = re.findall(r"```json\n(.*?)\n```", self.system_text, re.DOTALL)
        return json.loads(found[-1]) if found else None


@dataclass
class Reply:
    """What the server answers: status, JSON (or raw text) body, headers, a delay."""

    status: int = 200
    body: dict[str, Any] | str = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


# -- answers built from the request ------------------------------------------------------


def _first_block(text: str, tag: str) -> str:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.DOTALL)
    return match.group(1).strip() if match else ""


def data_sentence(request: RecordedRequest) -> str:
    """The first sentence of the first paper's abstract (or takeaway) in the request."""
    text = request.user_text
    body = _first_block(text, "abstract") or _first_block(text, "takeaway") or "No data."
    body = " ".join(body.split())
    match = re.match(r"(.+?[.!?])(?:\s|$)", body)
    return match.group(1) if match else body


def title_words(request: RecordedRequest) -> list[str]:
    """Up to three content words of the first title in the request."""
    title = _first_block(request.user_text, "title")
    words = [w for w in re.findall(r"[A-Za-z][\w-]+", title) if len(w) > 3]
    return words[:3] or ["paper"]


def example(schema: dict[str, Any], request: RecordedRequest, name: str = "") -> Any:
    """Return a value that matches ``schema``, filled from the request's data."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {key: example(sub, request, key) for key, sub in props.items()}
    if kind == "array":
        items = schema.get("items", {})
        if items.get("type") == "object":
            enums = [(k, v["enum"]) for k, v in items.get("properties", {}).items() if "enum" in v]
            if enums:
                key, values = enums[0]
                out = []
                for value in values:
                    item = example(items, request, name)
                    item[key] = value
                    out.append(item)
                return out
            return [example(items, request, name)]
        if items.get("type") == "string":
            return title_words(request)
        return [example(items, request, name)]
    if kind in ("number", "integer"):
        return 0.9 if kind == "number" else 1
    if kind == "boolean":
        return False
    return data_sentence(request)


def default_payload(request: RecordedRequest) -> dict[str, Any]:
    """The JSON object the server answers by default for ``request``."""
    schema = request.schema
    if schema is None:
        return {"answer": data_sentence(request)}
    payload = example(schema, request)
    return payload if isinstance(payload, dict) else {"value": payload}


def completion(
    content: str | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    model: str = "fake-model",
    prompt_tokens: int = 100,
    completion_tokens: int = 50,
) -> Reply:
    """A 200 chat.completion with one choice."""
    return Reply(
        body={
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": finish_reason,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def valid(
    update: dict[str, Any]
    | Callable[[dict[str, Any], RecordedRequest], dict[str, Any]]
    | None = None,
    **kwargs: Any,
) -> Handler:
    """Answer the default payload, changed by ``update`` (a dict merged in, or a function).

    ``kwargs`` go to ``completion`` (token counts, model).
    """

    def handle(request: RecordedRequest) -> Reply:
        payload = default_payload(request)
        if callable(update):
            payload = update(copy.deepcopy(payload), request)
        elif update:
            payload.update(update)
        return completion(json.dumps(payload, ensure_ascii=False), **kwargs)

    return handle


def _error(status: int, message: str, type_: str, code: str | None = None, **headers: str) -> Reply:
    return Reply(
        status=status,
        body={"error": {"message": message, "type": type_, "param": None, "code": code}},
        headers=dict(headers),
    )


def rate_limited(retry_after: float | None = 1, retry_after_ms: float | None = None) -> Reply:
    """429 rate limit, with ``retry-after`` (seconds) and/or ``retry-after-ms`` headers."""
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
    if retry_after_ms is not None:
        headers["retry-after-ms"] = f"{retry_after_ms:g}"
    return _error(
        429,
        "Rate limit reached. Please try again later.",
        "requests",
        "rate_limit_exceeded",
        **headers,
    )


def insufficient_quota() -> Reply:
    """429 that no wait fixes: the account has no quota left."""
    return _error(
        429,
        "You exceeded your current quota, please check your plan.",
        "insufficient_quota",
        "insufficient_quota",
    )


def server_error(status: int = 500) -> Reply:
    """5xx."""
    return _error(status, "The server had an error while processing your request.", "server_error")


def unauthorized(api_key: str = "") -> Reply:
    """401, echoing a masked key the way OpenAI does."""
    masked = f"{api_key[:3]}*****{api_key[-4:]}" if len(api_key) > 8 else "*****"
    return _error(
        401, f"Incorrect API key provided: {masked}.", "invalid_request_error", "invalid_api_key"
    )


def forbidden() -> Reply:
    """403."""
    return _error(
        403,
        "You are not allowed to use this model.",
        "invalid_request_error",
        "unsupported_country_region_territory",
    )


def model_not_found(model: str = "missing-model") -> Reply:
    """404 for an unknown model."""
    return _error(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    )


def schema_rejected() -> Reply:
    """400 from a server without structured output."""
    return _error(
        400,
        "Invalid parameter: 'response_format' of type 'json_schema' is not "
        "supported with this model.",
        "invalid_request_error",
    )


def truncated() -> Handler:
    """200 cut off by the token limit: finish_reason ``length``, half a JSON object."""

    def handle(request: RecordedRequest) -> Reply:
        text = json.dumps(default_payload(request), ensure_ascii=False)
        return completion(text[: len(text) // 2], finish_reason="length")

    return handle


def invalid_json() -> Reply:
    """200 whose content is not JSON."""
    return completion("Sure! Here is the summary: {category: cv, takeaway: ...")


def refusal(text: str = "I'm sorry, I can't help with that.") -> Reply:
    """200 where the model refuses (``message.refusal`` set, no content)."""
    return completion(None, refusal=text)


def delayed(seconds: float, reply: Reply | Handler | None = None) -> Handler:
    """Answer ``reply`` (default: the valid answer) after ``seconds``."""

    def handle(request: RecordedRequest) -> Reply:
        chosen = reply or valid()
        out = chosen(request) if callable(chosen) else chosen
        out = copy.copy(out)
        out.delay_s = seconds
        return out

    return handle


# -- the server -------------------------------------------------------------------------


class FakeOpenAI:
    """The fake endpoint: ``base_url`` for clients, ``requests`` seen, ``script`` faults."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.reject_json_schema = False
        self.default: Handler = valid()
        self._queue: deque[Reply | Handler] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    @property
    def calls(self) -> int:
        return len(self.requests)

    def script(self, *replies: Reply | Handler) -> FakeOpenAI:
        """Queue answers for the next requests, in order."""
        with self._lock:
            self._queue.extend(replies)
        return self

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            scripted = self._queue.popleft() if self._queue else None
        if request.path.rstrip("/") != "/v1/chat/completions":
            return _error(404, f"no route {request.path}", "invalid_request_error")
        if scripted is None:
            if self.reject_json_schema and request.response_format.get("type") == "json_schema":
                return schema_rejected()
            scripted = self.default
        return scripted(request) if callable(scripted) else scripted

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                request = RecordedRequest(
                    method="POST",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                reply = fake._reply(request)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                data = (
                    reply.body.encode()
                    if isinstance(reply.body, str)
                    else json.dumps(reply.body).encode()
                )
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return _Handler


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A running ``FakeOpenAI``; closed after the test."""
    with FakeOpenAI() as fake:
        yield fake
