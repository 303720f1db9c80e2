"""The sources settings file: which sources ingest asks, and how it picks among papers."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from paperdigest.errors import ConfigError

DEFAULT_FILE = "config/sources.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HfDaily(_Section):
    enabled: bool = True


class ArxivRss(_Section):
    enabled: bool = True
    categories: list[str] = Field(default_factory=list)
    announce_types: list[str] = Field(default_factory=lambda: ["new", "cross"])


class ArxivApi(_Section):
    enabled: bool = False
    ids: list[str] = Field(default_factory=list)
    queries: list[str] = Field(default_factory=list)
    max_results: int = Field(default=100, ge=1, le=2000)


class Selection(_Section):
    per_category_cap: int = Field(default=4, ge=1)
    keywords: list[str] = Field(default_factory=list)


class SourcesConfig(_Section):
    """The parsed settings file; unknown keys are errors, so a typo cannot pass silently."""

    version: int = 1
    hf_daily: HfDaily = HfDaily()
    arxiv_rss: ArxivRss = ArxivRss()
    arxiv_api: ArxivApi = ArxivApi()
    selection: Selection = Selection()

    def keeps(self, announce_type: str) -> bool:
        """Whether a paper announced as ``announce_type`` is a candidate ("" always is)."""
        return not announce_type or announce_type in self.arxiv_rss.announce_types


def load_sources(path: str | Path | None = None) -> SourcesConfig:
    """Read the settings file at ``path``, or the one that ships with the package.

    Raises ``ConfigError`` naming the file and what is wrong in it.
    """
    name = str(path) if path else DEFAULT_FILE
    try:
        if path:
            text = Path(path).read_text(encoding="utf-8")
        else:
            text = resources.files("paperdigest").joinpath(DEFAULT_FILE).read_text("utf-8")
        return SourcesConfig.model_validate(tomllib.loads(text))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"invalid sources file {name}: {exc}") from exc
