"""Typed settings of each function, read once from the environment at cold start."""

from __future__ import annotations

from functools import cache
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """Where a run's data lives; the same for every function."""

    # Each function reads one of these models: its schema is built when first read
    # (defer_build), not for all four at import.
    model_config = SettingsConfigDict(extra="ignore", frozen=True, defer_build=True)

    table_name: str
    bucket_name: str
    queue_url: str = ""
    event_bus_name: str = "default"
    aws_region: str = Field(default="us-east-1", alias="AWS_REGION")
    language: Literal["ko", "en"] = Field(default="ko", alias="DIGEST_LANGUAGE")


class IngestSettings(CommonSettings):
    """Sources and selection of the ingest function.

    ``input_uris`` lists recorded source documents in the bucket (``s3://`` or
    bare keys); when empty, the live sources of ``sources_file`` are fetched (the
    packaged ``config/sources.toml`` when unset).
    """

    max_papers: int = Field(default=15, ge=1)
    input_uris: list[str] = Field(default_factory=list)
    sources_file: str = ""
    run_deadline_s: int = Field(default=7200, ge=10)


class SummarizeSettings(CommonSettings):
    """LLM endpoint and delivery limits of the summarize function.

    ``openai_api_key`` serves local runs; deployed functions name an SSM
    parameter in ``openai_api_key_param`` instead, read through Powertools.
    """

    openai_api_key: SecretStr | None = None
    openai_api_key_param: str = ""
    openai_base_url: str = ""
    openai_model: str = "gpt-4o-mini"
    openai_fallback_model: str = ""
    llm_timeout_s: float = Field(default=60.0, gt=0, allow_inf_nan=False)
    llm_max_retries: int = Field(default=3, ge=1)
    # 0: no budget.
    max_run_tokens: int = Field(default=0, ge=0)
    max_receive_count: int = Field(default=5, ge=1)
    lease_seconds: int = Field(default=300, ge=1)

    @field_validator("openai_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ValueError("must be an http:// or https:// URL")
        return value


class PublishSettings(CommonSettings):
    """Where and how the digest is published."""

    site_prefix: str = "digests/"


@cache
def ingest_settings() -> IngestSettings:
    return IngestSettings()  # type: ignore[call-arg]


@cache
def summarize_settings() -> SummarizeSettings:
    return SummarizeSettings()  # type: ignore[call-arg]


@cache
def publish_settings() -> PublishSettings:
    return PublishSettings()  # type: ignore[call-arg]


def environment_problems() -> list[str]:
    """Read every function's settings from the environment as its handler would; return
    one line per variable that none of them could take (empty when all are valid)."""
    problems: list[str] = []
    for model in (IngestSettings, SummarizeSettings, PublishSettings):
        try:
            model()  # type: ignore[call-arg]
        except ValidationError as exc:
            problems.extend(p for p in describe(exc) if p not in problems)
    return problems


def describe(exc: ValidationError) -> list[str]:
    """One line per setting ``exc`` rejects: the variable, its value and why."""
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]).upper() if error["loc"] else exc.title
        if error["type"] == "missing":
            lines.append(f"{name} is not set")
        else:
            lines.append(f"{name}={error.get('input')!r}: {error['msg']}")
    return lines
