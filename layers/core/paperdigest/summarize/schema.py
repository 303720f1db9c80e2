"""JSON schemas sent to the model and the pydantic models that check its answers.

The schemas carry no link field: links are always built from ingested ids.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT = 1500
MAX_KEYWORDS = 8
MAX_KEYWORD = 80

PAPER_SCHEMA_NAME = "paper_summary"
SYNTHESIS_SCHEMA_NAME = "category_synthesis"


class PaperOutput(BaseModel):
    """One paper's summary as the model must return it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: str = Field(min_length=1)
    confidence: float = Field(ge=0.0, le=1.0)
    takeaway: str = Field(min_length=1, max_length=MAX_TEXT)
    problem: str = Field(min_length=1, max_length=MAX_TEXT)
    method: str = Field(min_length=1, max_length=MAX_TEXT)
    result: str = Field(min_length=1, max_length=MAX_TEXT)
    keywords: list[str] = Field(min_length=1, max_length=MAX_KEYWORDS * 2)


class FindingOutput(BaseModel):
    """One paper's key finding inside a synthesis."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    arxiv_id: str = Field(min_length=1)
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class SynthesisOutput(BaseModel):
    """A category synthesis as the model must return it: the five parts."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    themes: str = Field(min_length=1, max_length=MAX_TEXT * 2)
    trends: str = Field(min_length=1, max_length=MAX_TEXT * 2)
    findings: list[FindingOutput] = Field(min_length=1)
    impact: str = Field(min_length=1, max_length=MAX_TEXT * 2)
    outlook: str = Field(min_length=1, max_length=MAX_TEXT * 2)


def _string(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def paper_schema(category_ids: list[str]) -> dict[str, Any]:
    """Return the strict JSON schema of a paper summary; ``category`` is an enum."""
    return {
        "type": "object",
        "properties": {
            "category": {
                "type": "string",
                "enum": list(category_ids),
                "description": "the one taxonomy id that fits the paper best",
            },
            "confidence": {
                "type": "number",
                "description": "0 to 1: how sure the category is",
            },
            "takeaway": _string("the single most important point of the paper"),
            "problem": _string("the problem or gap the paper addresses"),
            "method": _string("what the authors propose or do"),
            "result": _string("the main result, with numbers only as the abstract gives them"),
            "keywords": {
                "type": "array",
                "items": {"type": "string"},
                "description": "3 to 6 technical keywords, in English, as the paper writes them",
            },
        },
        "required": [
            "category",
            "confidence",
            "takeaway",
            "problem",
            "method",
            "result",
            "keywords",
        ],
        "additionalProperties": False,
    }


def synthesis_schema(paper_ids: list[str]) -> dict[str, Any]:
    """Return the strict JSON schema of a category synthesis; findings cite an id enum."""
    return {
        "type": "object",
        "properties": {
            "themes": _string("1. the main themes of the papers"),
            "trends": _string("2. the keywords the papers share and the trends they show"),
            "findings": {
                "type": "array",
                "description": "3. each paper's key finding, one item per paper",
                "items": {
                    "type": "object",
                    "properties": {
                        "arxiv_id": {"type": "string", "enum": list(paper_ids)},
                        "text": _string("the paper's key finding"),
                    },
                    "required": ["arxiv_id", "text"],
                    "additionalProperties": False,
                },
            },
            "impact": _string("4. the impact on the field and on neighbouring fields"),
            "outlook": _string("5. conclusion and outlook"),
        },
        "required": ["themes", "trends", "findings", "impact", "outlook"],
        "additionalProperties": False,
    }
