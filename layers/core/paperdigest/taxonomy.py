"""The category taxonomy: a versioned config file of ids, names, emoji and hints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from paperdigest.errors import ConfigError
from paperdigest.models import Category

OTHER = "other"


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """An ordered set of categories; the order is the digest's fallback order."""

    version: str
    categories: tuple[Category, ...]

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.categories]

    def get(self, category_id: str) -> Category:
        """Return the category with this id, or raise ``ConfigError``."""
        for category in self.categories:
            if category.id == category_id:
                return category
        raise ConfigError(f"unknown category id {category_id!r}")

    def by_name(self, name: str) -> Category:
        """Return the category with this display name (case-insensitive)."""
        for category in self.categories:
            if category.name.casefold() == name.casefold():
                return category
        raise ConfigError(f"unknown category name {name!r}")


def parse_taxonomy(text: str) -> Taxonomy:
    """Parse a taxonomy document; raise ``ConfigError`` when it is not valid."""
    try:
        data = json.loads(text)
        categories = tuple(
            Category(
                id=item["id"],
                name=item["name"],
                emoji=item["emoji"],
                description=item["description"],
                hints=tuple(item.get("hints", ())),
                arxiv=tuple(item.get("arxiv", ())),
            )
            for item in data["categories"]
        )
        version = str(data["version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"invalid taxonomy: {exc}") from exc

    ids = [c.id for c in categories]
    if len(set(ids)) != len(ids):
        raise ConfigError("invalid taxonomy: duplicate category ids")
    if OTHER not in ids:
        raise ConfigError(f"invalid taxonomy: no {OTHER!r} category")
    return Taxonomy(version=version, categories=categories)


@cache
def load_taxonomy(path: str | None = None) -> Taxonomy:
    """Load the taxonomy from ``path``, or the one that ships with the package."""
    if path:
        return parse_taxonomy(Path(path).read_text(encoding="utf-8"))
    text = resources.files("paperdigest").joinpath("config/taxonomy.json").read_text("utf-8")
    return parse_taxonomy(text)
