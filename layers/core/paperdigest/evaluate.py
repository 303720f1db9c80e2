"""Classification accuracy on the golden set: the reference digest's papers and categories."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from paperdigest.classify import LabelledPaper
from paperdigest.errors import ConfigError
from paperdigest.models import Paper, Usage
from paperdigest.taxonomy import Taxonomy

Classifier = Callable[[Paper], str]


@dataclass(slots=True)
class Evaluation:
    """Per-paper outcomes of one classifier on the golden set."""

    name: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # id, expected, got
    usage: Usage = field(default_factory=Usage)

    @property
    def correct(self) -> int:
        return sum(1 for _, expected, got in self.rows if expected == got)

    @property
    def accuracy(self) -> float:
        return self.correct / len(self.rows) if self.rows else 0.0


def load_golden(path: Path, taxonomy: Taxonomy) -> list[LabelledPaper]:
    """Read the labelled papers of a golden file; raise ``ConfigError`` when it is invalid."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [
            LabelledPaper(
                paper=Paper(arxiv_id=p["arxiv_id"], title=p["title"], abstract=p["abstract"]),
                category=taxonomy.by_name(p["category"]).id,
            )
            for p in data["papers"]
            if p.get("category")
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read the golden set {path}: {exc}") from exc


def evaluate(name: str, golden: list[LabelledPaper], classifier: Classifier) -> Evaluation:
    """Run ``classifier`` on every golden paper and record what it answered."""
    result = Evaluation(name)
    for item in golden:
        result.rows.append((item.paper.arxiv_id, item.category, classifier(item.paper)))
    return result
