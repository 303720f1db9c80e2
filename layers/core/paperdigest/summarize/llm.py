"""The LLM summarizer: any OpenAI-compatible chat completions endpoint.

One ``LLMSummarizer`` writes paper summaries and category syntheses with structured
output (a strict JSON schema, or JSON mode plus validation on servers without it). It
runs its own retry policy: rate limits honour Retry-After, server errors and timeouts
back off exponentially, all within the time the caller has left; authentication,
quota and unknown-model errors raise ``LLMFatalError`` at once. An answer that is cut
off, not JSON, off-schema, a refusal, or unfaithful to the abstract is asked for once
more, then the embedded summarizer stands in and the record says ``fallback=True``.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import openai
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from paperdigest.errors import LLMError, LLMFatalError
from paperdigest.models import (
    Category,
    CategorySynthesis,
    Finding,
    Paper,
    PaperSummary,
    Usage,
)
from paperdigest.summarize import embedded
from paperdigest.summarize.prompts import (
    TRIMMABLE,
    Message,
    Prompt,
    RecordText,
    paper_data,
    paper_prompt,
    paper_system,
    record_data,
    retry_note,
    synthesis_prompt,
    synthesis_system,
)
from paperdigest.summarize.schema import (
    MAX_KEYWORD,
    MAX_KEYWORDS,
    PAPER_SCHEMA_NAME,
    SYNTHESIS_SCHEMA_NAME,
    PaperOutput,
    SynthesisOutput,
    paper_schema,
    synthesis_schema,
)
from paperdigest.summarize.text import (
    estimate_tokens,
    is_unsafe,
    normalize_space,
    numbers,
    trim_to_tokens,
)
from paperdigest.taxonomy import OTHER, Taxonomy

logger = logging.getLogger(__name__)

RemainingMs = Callable[[], int]
Out = TypeVar("Out", bound=BaseModel)
Record = TypeVar("Record", PaperSummary, CategorySynthesis)

# USD per 1M input and output tokens, as published by OpenAI when this was written.
# Matched by the longest prefix of the model name; unknown models cost 0 unless the
# settings give prices.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-3.5-turbo": (0.50, 1.50),
}

# OpenAI's own endpoint, used when no base URL is set.
OPENAI_URL = "https://api.openai.com/v1"
# Tokens the request wrapping costs beyond the text we estimate (roles, separators,
# the note that asks again after a rejected answer).
_OVERHEAD_TOKENS = 120
# A call needs at least this long to be worth starting.
_MIN_CALL_S = 1.0


class LLMSettings(BaseModel):
    """How to reach the model and how patient to be with it.

    ``max_retries`` bounds the attempts of one call on rate limits, server errors and
    timeouts. ``fallback_model`` replaces ``model`` when the endpoint does not know it.
    Prices are USD per 1M tokens; left unset they come from ``PRICES`` (else 0).
    ``reserve_ms`` is time kept back from ``remaining_ms`` for the caller's own work.
    """

    model_config = ConfigDict(frozen=True)

    api_key: SecretStr
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    fallback_model: str | None = None
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=1)
    language: Literal["ko", "en"] = "ko"
    price_input_per_1m: float | None = Field(default=None, ge=0)
    price_output_per_1m: float | None = Field(default=None, ge=0)
    max_input_tokens: int = Field(default=6000, ge=500)
    max_output_tokens: int = Field(default=1500, ge=100)
    temperature: float | None = None
    min_confidence: float = Field(default=0.5, ge=0, le=1)
    backoff_base_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=20.0, ge=0)
    max_retry_after_s: float = Field(default=60.0, ge=0)
    reserve_ms: int = Field(default=2000, ge=0)

    def prices(self) -> tuple[float, float]:
        """Return (input, output) USD per 1M tokens of ``model``."""
        known = (0.0, 0.0)
        for prefix in sorted(PRICES, key=len, reverse=True):
            if self.model.startswith(prefix):
                known = PRICES[prefix]
                break
        return (
            known[0] if self.price_input_per_1m is None else self.price_input_per_1m,
            known[1] if self.price_output_per_1m is None else self.price_output_per_1m,
        )


class _Rejected(Exception):
    """An answer that arrived but cannot be used; ``reason`` is a fixed short text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _error_text(exc: openai.APIStatusError) -> str:
    return f"{exc.message} {json.dumps(exc.body, default=str)}".casefold()


def _retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Return the wait a 429 asks for (``retry-after-ms`` first), or None."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def _connection_failure(exc: openai.APIConnectionError) -> str:
    """What went wrong on the way to the endpoint, in a few words."""
    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    cause: BaseException | None = exc.__cause__
    while cause is not None and cause.__cause__ is not None:
        cause = cause.__cause__
    return f"cannot connect: {cause}" if cause else "cannot connect"


class LLMSummarizer:
    """Writes paper summaries and category syntheses with an OpenAI-compatible model.

    The client is created on first use. ``sleep`` waits between retries (tests pass a
    recorder); ``http_client`` is handed to ``openai.OpenAI`` when given.

    When every attempt of a call failed to reach the endpoint (refused, unresolvable,
    timed out), later calls fail at once until ``start_batch``: the rest of a batch is
    handed back for a later delivery instead of waiting out the same failure again.
    An endpoint that answers with an error does not count: that may be one input's.
    """

    def __init__(
        self,
        settings: LLMSettings,
        *,
        client: openai.OpenAI | None = None,
        http_client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._client = client
        self._http_client = http_client
        self._sleep = sleep
        self._model = settings.model
        self._structured = True
        self._token_param = "max_completion_tokens"
        self._unreachable = ""

    def start_batch(self) -> None:
        """A new delivery: try the endpoint again even if the last batch could not reach it."""
        self._unreachable = ""

    @property
    def engine(self) -> str:
        """The engine name written into records: ``llm:<model>``."""
        return f"llm:{self._model}"

    def client(self) -> openai.OpenAI:
        """Return the OpenAI client, creating it on first use (it does no retries)."""
        if self._client is None:
            self._client = openai.OpenAI(
                api_key=self.settings.api_key.get_secret_value(),
                # Named even when unset: the client takes an empty OPENAI_BASE_URL in
                # the environment (the template's default) as the base URL itself.
                base_url=self.settings.base_url or OPENAI_URL,
                timeout=self.settings.timeout_s,
                max_retries=0,
                http_client=self._http_client,
            )
        return self._client

    # -- papers ------------------------------------------------------------------------

    def summarize_paper(
        self, paper: Paper, taxonomy: Taxonomy, remaining_ms: RemainingMs | None = None
    ) -> PaperSummary:
        """Return the summary of ``paper``.

        Falls back to the embedded summarizer (``fallback=True``) when two answers in a
        row cannot be used. Raises ``LLMFatalError`` on authentication, quota or
        unknown-model errors and ``LLMError`` when the endpoint stays unavailable or the
        time runs out.
        """
        usage = Usage()
        source = numbers(f"{paper.title} {paper.abstract}")
        ids = taxonomy.ids

        def build() -> Prompt:
            schema = paper_schema(ids)
            system = paper_system(taxonomy, self.settings.language, schema, self._structured)
            budget = self._input_budget() - estimate_tokens(system + paper_data(paper, ""))
            abstract = trim_to_tokens(normalize_space(paper.abstract), budget)
            return paper_prompt(
                paper,
                taxonomy,
                abstract,
                schema,
                language=self.settings.language,
                structured=self._structured,
                schema_name=PAPER_SCHEMA_NAME,
            )

        def accept(out: PaperOutput) -> PaperSummary:
            return self._paper_record(paper, ids, source, out, usage)

        record = self._ask(build, PaperOutput, accept, usage, remaining_ms, paper.arxiv_id)
        if record is not None:
            return record
        fallback = embedded.summarize_paper(paper, taxonomy, self.settings.language)
        return dataclasses.replace(fallback, fallback=True, usage=usage)

    def _paper_record(
        self,
        paper: Paper,
        ids: list[str],
        source: set[str],
        out: PaperOutput,
        usage: Usage,
    ) -> PaperSummary:
        if out.category not in ids:
            raise _Rejected("unknown category")
        keywords = _unique(k for k in out.keywords if k)[:MAX_KEYWORDS]
        if any(len(k) > MAX_KEYWORD for k in keywords):
            raise _Rejected("keyword too long")
        texts = [out.takeaway, out.problem, out.method, out.result, *keywords]
        _check_text(texts, source)
        low = out.confidence < self.settings.min_confidence
        return PaperSummary(
            arxiv_id=paper.arxiv_id,
            category=OTHER if low else out.category,
            confidence=out.confidence,
            takeaway=out.takeaway,
            problem=out.problem,
            method=out.method,
            result=out.result,
            keywords=keywords,
            engine=self.engine,
            usage=usage,
        )

    # -- categories --------------------------------------------------------------------

    def synthesize_category(
        self,
        category: Category,
        papers: list[Paper],
        records: list[PaperSummary],
        remaining_ms: RemainingMs | None = None,
    ) -> CategorySynthesis:
        """Return the five-part synthesis of ``category`` from its papers' records.

        Findings may cite only the papers given. Falls back to the embedded synthesis
        (``fallback=True``) after two unusable answers; raises like ``summarize_paper``.
        """
        usage = Usage()
        by_id = {p.arxiv_id: p for p in papers}
        ids = _unique([*(r.arxiv_id for r in records), *by_id])
        items = [RecordText.of(by_id.get(r.arxiv_id), r) for r in records]
        source = numbers(" ".join(f"{p.title} {p.abstract}" for p in papers))
        # Counting the papers ("3편", "two of 3") and citing their ids is allowed.
        source |= {str(n) for n in range(1, len(ids) + 1)} | set(ids)

        def build() -> Prompt:
            schema = synthesis_schema(ids)
            system = synthesis_system(category, self.settings.language, schema, self._structured)
            budget = self._input_budget() - estimate_tokens(system)
            return synthesis_prompt(
                category,
                _fit_records(items, budget),
                schema,
                language=self.settings.language,
                structured=self._structured,
                schema_name=SYNTHESIS_SCHEMA_NAME,
            )

        def accept(out: SynthesisOutput) -> CategorySynthesis:
            return self._synthesis_record(category, ids, source, out, usage)

        synthesis = self._ask(build, SynthesisOutput, accept, usage, remaining_ms, category.id)
        if synthesis is not None:
            return synthesis
        fallback = embedded.synthesize_category(category, papers, records, self.settings.language)
        return dataclasses.replace(fallback, fallback=True, usage=usage)

    def _synthesis_record(
        self,
        category: Category,
        ids: list[str],
        source: set[str],
        out: SynthesisOutput,
        usage: Usage,
    ) -> CategorySynthesis:
        findings: list[Finding] = []
        for item in out.findings:
            if item.arxiv_id not in ids:
                raise _Rejected("finding cites an unknown paper")
            if all(f.arxiv_id != item.arxiv_id for f in findings):
                findings.append(Finding(arxiv_id=item.arxiv_id, text=item.text))
        texts = [out.themes, out.trends, out.impact, out.outlook, *(f.text for f in findings)]
        _check_text(texts, source)
        return CategorySynthesis(
            category=category.id,
            themes=out.themes,
            trends=out.trends,
            findings=findings,
            impact=out.impact,
            outlook=out.outlook,
            engine=self.engine,
            usage=usage,
        )

    # -- one validated answer ----------------------------------------------------------

    def _ask(
        self,
        build: Callable[[], Prompt],
        model: type[Out],
        accept: Callable[[Out], Record],
        usage: Usage,
        remaining_ms: RemainingMs | None,
        subject: str,
    ) -> Record | None:
        """Return ``accept``'s record of a valid answer, or None after two rejections."""
        reason = ""
        for attempt in (1, 2):
            note = [retry_note(reason)] if reason else []
            try:
                content = self._complete(build, note, usage, remaining_ms)
                return accept(_parse(content, model))
            except _Rejected as rejected:
                reason = rejected.reason
                logger.warning(
                    "llm answer rejected",
                    extra={"subject": subject, "reason": reason, "attempt": attempt},
                )
        logger.warning(
            "llm fallback to embedded summarizer",
            extra={"subject": subject, "reason": reason},
        )
        return None

    def _complete(
        self,
        build: Callable[[], Prompt],
        note: list[Message],
        usage: Usage,
        remaining_ms: RemainingMs | None,
    ) -> str:
        """Return the content of one answer, retrying transport faults.

        The prompt is built anew for every attempt, since the request shape changes
        when the server turns out to lack structured output. Raises ``_Rejected`` for
        an answer that is cut off, refused or empty.
        """
        if self._unreachable:
            # The same cause as the call that found the endpoint unreachable.
            logger.warning("llm call skipped, endpoint unreachable in this batch")
            raise LLMError(self._unreachable)
        attempt = 0
        while True:
            attempt += 1
            timeout = self._call_timeout(remaining_ms)
            prompt = build()
            messages = [*prompt.messages, *note]
            try:
                response = self.client().chat.completions.create(
                    **self._request(prompt, messages), timeout=timeout
                )
            except openai.APIStatusError as exc:
                usage.calls += 1
                if self._adapt(exc):
                    attempt -= 1
                    continue
                delay = self._transient_delay(exc, attempt)
                failure, reached = f"status {exc.status_code}", True
            except openai.APIConnectionError as exc:  # timeouts are connection errors
                usage.calls += 1
                logger.warning(
                    "llm call failed",
                    extra={"kind": type(exc).__name__, "attempt": attempt, "model": self._model},
                )
                delay = self._backoff(attempt)
                failure, reached = _connection_failure(exc), False
            else:
                self._count(response, messages, usage)
                return _content(response)
            try:
                self._wait(delay, attempt, remaining_ms, failure)
            except LLMError as gave_up:
                if not reached and attempt >= self.settings.max_retries:
                    self._unreachable = str(gave_up)
                raise

    def _request(self, prompt: Prompt, messages: list[Message]) -> dict[str, Any]:
        if self._structured:
            response_format: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {
                    "name": prompt.schema_name,
                    "strict": True,
                    "schema": prompt.schema,
                },
            }
        else:
            response_format = {"type": "json_object"}
        request: dict[str, Any] = {
            "model": self._model,
            "messages": messages,
            "response_format": response_format,
            self._token_param: self.settings.max_output_tokens,
        }
        if self.settings.temperature is not None:
            request["temperature"] = self.settings.temperature
        return request

    def _adapt(self, exc: openai.APIStatusError) -> bool:
        """Adjust to what the server lacks; True when the same call should go again.

        Raises our errors for status codes that no retry can fix.
        """
        status = exc.status_code
        text = _error_text(exc)
        if status in (400, 422):
            if self._structured and ("response_format" in text or "json_schema" in text):
                logger.warning(
                    "llm server rejects json_schema, using json mode", extra={"model": self._model}
                )
                self._structured = False
                return True
            if self._token_param == "max_completion_tokens" and "max_completion_tokens" in text:
                self._token_param = "max_tokens"
                return True
            raise LLMError(
                f"model request rejected (status {status}, model {self._model})"
            ) from exc
        if status in (401, 403):
            raise LLMFatalError(
                f"model endpoint refused the credentials (status {status})"
            ) from exc
        if status == 404 and "model" not in text:
            # Not an unknown model but no such path: the base URL is wrong.
            raise LLMFatalError(
                f"no chat completions endpoint at {exc.request.url} (status 404); "
                "check the base URL (OPENAI_BASE_URL)"
            ) from exc
        if status in (501, 505):
            raise LLMFatalError(
                f"the endpoint does not serve chat completions (status {status} at "
                f"{exc.request.url})"
            ) from exc
        if status == 404:
            fallback = self.settings.fallback_model
            if fallback and self._model != fallback:
                logger.warning(
                    "llm model not found, using fallback model",
                    extra={"model": self._model, "fallback_model": fallback},
                )
                self._model = fallback
                return True
            raise LLMFatalError(
                f"model not found (status 404, model {self._model} at {exc.request.url})"
            ) from exc
        if status == 429 and "insufficient_quota" in (exc.code or "", exc.type or ""):
            raise LLMFatalError("model quota exhausted (status 429, insufficient_quota)") from exc
        if status == 429 or status >= 500 or status in (408, 409):
            return False
        raise LLMError(f"model request failed (status {status}, model {self._model})") from exc

    def _transient_delay(self, exc: openai.APIStatusError, attempt: int) -> float:
        logger.warning(
            "llm call failed",
            extra={"status": exc.status_code, "attempt": attempt, "model": self._model},
        )
        if exc.status_code == 429:
            asked = _retry_after_s(exc.response.headers)
            if asked is not None:
                if asked > self.settings.max_retry_after_s:
                    raise LLMError(f"rate limited for {asked:.0f} s, longer than allowed") from exc
                return asked
        return self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        return float(
            min(self.settings.backoff_max_s, self.settings.backoff_base_s * 2 ** (attempt - 1))
        )

    def _wait(
        self, delay: float, attempt: int, remaining_ms: RemainingMs | None, failure: str
    ) -> None:
        """Sleep before the next attempt, or raise ``LLMError`` when none is left."""
        if attempt >= self.settings.max_retries:
            endpoint = self.settings.base_url or "OpenAI"
            raise LLMError(
                f"model unavailable after {attempt} attempts (last: {failure}, at {endpoint})"
            )
        if remaining_ms is not None:
            left_s = (remaining_ms() - self.settings.reserve_ms) / 1000.0
            if delay + min(_MIN_CALL_S, self.settings.timeout_s) > left_s:
                raise LLMError("no time left to retry the model call")
        self._sleep(delay)

    def _call_timeout(self, remaining_ms: RemainingMs | None) -> float:
        timeout = self.settings.timeout_s
        if remaining_ms is None:
            return timeout
        left_s = (remaining_ms() - self.settings.reserve_ms) / 1000.0
        if left_s < min(_MIN_CALL_S, timeout):
            raise LLMError("no time left for a model call")
        return min(timeout, left_s)

    def _input_budget(self) -> int:
        return self.settings.max_input_tokens - _OVERHEAD_TOKENS

    def _count(self, response: Any, messages: Sequence[Message], usage: Usage) -> None:
        usage.calls += 1
        reported = getattr(response, "usage", None)
        if reported is not None and reported.prompt_tokens is not None:
            prompt_tokens = int(reported.prompt_tokens)
            completion_tokens = int(reported.completion_tokens or 0)
        else:
            # NOTE: some compatible servers report no usage; estimate rather than say 0.
            prompt_tokens = sum(estimate_tokens(m["content"]) for m in messages)
            completion_tokens = estimate_tokens(_text_of(response))
        price_in, price_out = self.settings.prices()
        usage.prompt_tokens += prompt_tokens
        usage.completion_tokens += completion_tokens
        usage.cost_usd += (prompt_tokens * price_in + completion_tokens * price_out) / 1e6


def _text_of(response: Any) -> str:
    choices = getattr(response, "choices", None) or []
    if not choices or choices[0].message is None:
        return ""
    return choices[0].message.content or ""


def _content(response: Any) -> str:
    """Return the answer text; raise ``_Rejected`` if it is refused, cut off or empty."""
    choices = getattr(response, "choices", None) or []
    if not choices:
        raise _Rejected("no choices")
    choice = choices[0]
    if getattr(choice.message, "refusal", None):
        raise _Rejected("refusal")
    if choice.finish_reason == "length":
        raise _Rejected("truncated")
    if choice.finish_reason == "content_filter":
        raise _Rejected("content filter")
    content = choice.message.content
    if not content or not content.strip():
        raise _Rejected("empty answer")
    return str(content)


def _parse(content: str, model: type[Out]) -> Out:
    text = content.strip()
    if text.startswith("```"):
        # NOTE: JSON mode servers sometimes wrap the object in a code fence.
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _Rejected("invalid json") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _Rejected("schema mismatch") from exc


def _check_text(texts: Iterable[str], source: set[str]) -> None:
    """Raise ``_Rejected`` when a text is unsafe or writes a number not in the source."""
    for text in texts:
        if is_unsafe(text):
            raise _Rejected("link, markup or instruction in answer")
        if not numbers(text) <= source:
            raise _Rejected("number not in the abstract")


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return list(seen)


def _fit_records(items: Sequence[RecordText], budget: int) -> list[RecordText]:
    """Trim every record's fields by the same share so that all fit in ``budget``."""
    fixed = sum(
        estimate_tokens(record_data(dataclasses.replace(i, **dict.fromkeys(TRIMMABLE, ""))))
        for i in items
    )
    sizes = [[estimate_tokens(getattr(i, name)) for name in TRIMMABLE] for i in items]
    total = sum(sum(row) for row in sizes)
    room = budget - fixed
    if total <= room:
        return list(items)
    share = max(0.0, room) / total
    fitted = []
    for item, row in zip(items, sizes, strict=True):
        trimmed = {
            name: trim_to_tokens(getattr(item, name), int(size * share))
            for name, size in zip(TRIMMABLE, row, strict=True)
        }
        fitted.append(dataclasses.replace(item, **trimmed))
    return fitted
