"""Content figures for `make bench`: classifier accuracy and LLM tokens per paper and digest.

Accuracy is measured on the golden set (the reference digest's labelled papers).
Tokens are measured by running the whole local pipeline on the bundled input against a
local OpenAI-compatible stand-in that counts the tokens of every prompt it receives and
every answer it gives (estimated: about four characters a token for English, one a
Hangul syllable); the prompts are the real ones, the answers are shaped like the
schema asks. Prints numbers, asserts nothing.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from paperdigest.classify import classify  # noqa: E402
from paperdigest.cli import main  # noqa: E402
from paperdigest.evaluate import evaluate, load_golden  # noqa: E402
from paperdigest.sources import parse_document  # noqa: E402
from paperdigest.summarize.llm import PRICES  # noqa: E402
from paperdigest.summarize.text import estimate_tokens  # noqa: E402
from paperdigest.taxonomy import load_taxonomy  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI, RecordedRequest, Reply, valid  # noqa: E402

BUNDLED = ROOT / "tests" / "fixtures" / "hf-2024-09-24.json"
GOLDEN = ROOT / "infra" / "golden" / "papers-2024-09-24.json"
MODEL = "gpt-4o-mini"


def accuracy() -> None:
    taxonomy = load_taxonomy()
    result = evaluate(
        "rule-based", load_golden(GOLDEN, taxonomy), lambda p: classify(p, taxonomy)[0]
    )
    print(
        f"classifier (rule-based) on the golden set: {result.correct}/{len(result.rows)}"
        f" = {result.accuracy:.0%}"
    )


def tokens() -> None:
    spent: dict[str, list[tuple[int, int]]] = defaultdict(list)
    taxonomy = load_taxonomy()
    papers = {p.arxiv_id: p for p in parse_document(BUNDLED.read_bytes()).papers}

    def file_like_the_classifier(
        payload: dict[str, Any], request: RecordedRequest
    ) -> dict[str, Any]:
        # Spread papers over categories as a model would, so categories are realistic.
        found = re.search(r'<paper id="([^"]+)"', request.user_text)
        if "category" in payload and found and found.group(1) in papers:
            payload["category"], _ = classify(papers[found.group(1)], taxonomy)
            payload["confidence"] = 0.9
        return payload

    answer = valid(file_like_the_classifier)

    def counting(request: RecordedRequest) -> Reply:
        reply = answer(request)
        body = dict(reply.body)  # type: ignore[arg-type]
        content = body["choices"][0]["message"]["content"] or ""
        prompt = estimate_tokens(" ".join(str(m.get("content", "")) for m in request.messages))
        completion = estimate_tokens(content)
        body["usage"] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        kind = "paper" if "category" in json.loads(content or "{}") else "category"
        spent[kind].append((prompt, completion))
        return Reply(status=reply.status, body=body, headers=reply.headers)

    with FakeOpenAI() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.default = counting
        os.environ.update(OPENAI_API_KEY="bench", OPENAI_BASE_URL=fake.base_url, OPENAI_MODEL=MODEL)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = main(
                [
                    "run",
                    "--fresh",
                    "--input",
                    str(BUNDLED),
                    "--state",
                    f"{tmp}/state",
                    "--out",
                    f"{tmp}/site",
                    "--root",
                    str(ROOT),
                ]
            )
    if code != 0:
        print(f"token run failed with exit code {code}")
        return

    price_in, price_out = PRICES[MODEL]
    total_in = total_out = 0
    for kind, calls in sorted(spent.items(), key=lambda kv: kv[0] != "paper"):
        prompt = sum(p for p, _ in calls)
        completion = sum(c for _, c in calls)
        total_in, total_out = total_in + prompt, total_out + completion
        print(
            f"LLM tokens per {kind:<8}: {prompt / len(calls):7.0f} in, "
            f"{completion / len(calls):5.0f} out  ({len(calls)} calls)"
        )
    cost = total_in / 1e6 * price_in + total_out / 1e6 * price_out
    print(
        f"LLM tokens per digest  : {total_in} in, {total_out} out over "
        f"{sum(map(len, spent.values()))} calls; ≈ ${cost:.4f} at {MODEL} prices"
    )


if __name__ == "__main__":
    print(f"bundled input: {BUNDLED.relative_to(ROOT)}")
    accuracy()
    tokens()
