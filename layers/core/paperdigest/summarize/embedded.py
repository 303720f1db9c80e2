"""The embedded summarizer: extractive summaries and syntheses that need no network.

Every English sentence and keyword it writes is taken verbatim from the paper's title
or abstract (after whitespace normalisation); only short fixed framing sentences in the
digest language are added around them in a category synthesis. Sentences that carry a
link, markup or an instruction aimed at a model are never used.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

from paperdigest.classify import classify
from paperdigest.models import Category, CategorySynthesis, Finding, Paper, PaperSummary
from paperdigest.summarize.text import SentenceTokenizer, is_unsafe, normalize_space, words
from paperdigest.taxonomy import Taxonomy

ENGINE = "embedded"
MAX_KEYWORDS = 6
MAX_PHRASE_WORDS = 3

_PROBLEM_CUES = re.compile(
    r"(?i)\b(?:challeng\w*|problems?|lacks?|lacking|limitations?|limited|difficult\w*|"
    r"remains?|unknown|unproven|however|fails?|falling short|gap|demands?|need)\b"
)
_METHOD_CUES = re.compile(
    r"(?i)\b(?:we|this (?:paper|work|report|study))\s+(?:\w+\s+)?"
    r"(?:propose|introduce|present|develop|design|formulate|tackle|create|presents|"
    r"introduces|proposes|provides|investigate|study|define)\w*\b"
)
_RESULT_CUES = re.compile(
    r"(?i)\b(?:outperform\w*|surpass\w*|achiev\w*|improv\w*|state-of-the-art|sota)\b"
)
_WEAK_RESULT_CUES = re.compile(r"(?i)\b(?:better|gains?|superior|boosts?|accura\w*)\b")
_FINDING_CUES = re.compile(r"(?i)\b(?:show\w*|demonstrat\w*|find|found|reveal\w*|suggest\w*)\b")
_DIGIT = re.compile(r"\d")

# Words that say how a paper talks, not what it is about.
_GENERIC_WORDS = frozenset(
    [
        "propose",
        "proposed",
        "proposes",
        "present",
        "presents",
        "presented",
        "introduce",
        "introduces",
        "introduced",
        "show",
        "shows",
        "shown",
        "demonstrate",
        "demonstrates",
        "demonstrated",
        "novel",
        "new",
        "approach",
        "approaches",
        "method",
        "methods",
        "paper",
        "work",
        "works",
        "study",
        "studies",
        "result",
        "results",
        "achieve",
        "achieves",
        "achieving",
        "various",
        "based",
        "using",
        "use",
        "used",
        "also",
        "well",
        "however",
        "significant",
        "significantly",
        "including",
        "include",
        "includes",
        "existing",
        "recent",
        "previous",
        "current",
        "different",
        "several",
        "further",
        "first",
        "second",
        "third",
        "finally",
        "moreover",
        "specifically",
        "effectively",
        "effective",
        "able",
        "enable",
        "enables",
        "allows",
        "allow",
        "leading",
        "large-scale",
        "extensive",
        "comprehensive",
        "future",
        "research",
        "researchers",
        "code",
        "available",
        "make",
        "makes",
    ]
)
# Words too vague to be a keyword on their own, though fine inside a phrase.
_WEAK = frozenset(
    [
        "model",
        "models",
        "task",
        "tasks",
        "data",
        "performance",
        "framework",
        "system",
        "systems",
        "training",
        "dataset",
        "datasets",
        "benchmark",
        "benchmarks",
        "evaluation",
        "quality",
        "ability",
        "abilities",
        "capability",
        "capabilities",
        "information",
        "potential",
        "generation",
        "learning",
        "case",
    ]
)


@dataclass(frozen=True, slots=True)
class _Ranked:
    text: str
    position: int
    rank: float


@cache
def _stop_words() -> frozenset[str]:
    return frozenset(get_stop_words("english")) | _GENERIC_WORDS


def _usable_sentences(abstract: str) -> list[str]:
    tokenizer = SentenceTokenizer()
    return [s for s in tokenizer.to_sentences(abstract) if not is_unsafe(s)]


def _rank(sentences: Sequence[str]) -> list[_Ranked]:
    """Rate sentences with TextRank; return them best first, ties by position."""
    tokenizer = SentenceTokenizer()
    document = ObjectDocumentModel([Paragraph([Sentence(text, tokenizer) for text in sentences])])
    summarizer = TextRankSummarizer(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    rates = summarizer.rate_sentences(document) if len(sentences) > 1 else {}
    ranked = [
        _Ranked(text, i, float(rates.get(Sentence(text, tokenizer), 1.0)))
        for i, text in enumerate(sentences)
    ]
    return sorted(ranked, key=lambda r: (-round(r.rank, 9), r.position))


def _pick_method(sentences: Sequence[str], default: str, problem: str) -> str:
    """The first sentence where the authors say what they do, other than ``problem``."""
    candidates = [s for s in sentences if _METHOD_CUES.search(s)]
    for sentence in candidates:
        if sentence != problem:
            return sentence
    return candidates[0] if candidates else default


def _pick_problem(sentences: Sequence[str]) -> str:
    """An early sentence naming a challenge or gap; else the opening sentence.

    A sentence that also says what the authors do is a weaker choice: it is taken only
    when the opening sentence is one as well.
    """
    early = sentences[: max(2, (len(sentences) * 2 + 2) // 3)]
    for sentence in early:
        if _PROBLEM_CUES.search(sentence) and not _METHOD_CUES.search(sentence):
            return sentence
    if _METHOD_CUES.search(sentences[0]):
        for sentence in sentences:
            if _PROBLEM_CUES.search(sentence):
                return sentence
    return sentences[0]


def _pick_result(sentences: Sequence[str], default: str, method: str) -> str:
    """The sentence that best reads as a result: comparisons, gains, findings, numbers."""
    best, best_score = default, 0.0
    for position, sentence in enumerate(sentences):
        score = (
            2.0 * bool(_RESULT_CUES.search(sentence))
            + 1.0 * bool(_WEAK_RESULT_CUES.search(sentence))
            + 1.0 * bool(_FINDING_CUES.search(sentence))
            + 1.0 * bool(_DIGIT.search(sentence))
            - 1.5 * (sentence == method)
        )
        # Results come late in an abstract: on a tie the later sentence wins.
        score += position / (100.0 * max(1, len(sentences)))
        if score > best_score + 1e-9 and score >= 1.0:
            best, best_score = sentence, score
    return best


def _runs(text: str) -> list[list[str]]:
    """Runs of content words, split at stop words and punctuation."""
    stop = _stop_words()
    found: list[list[str]] = []
    for chunk in re.split(r"[,;:()\[\]{}\"“”!?]|\.\s|\.$", text):
        run: list[str] = []
        for word in words(chunk):
            if word.casefold() in stop or len(word) < 2 or not re.search(r"[a-zA-Z]", word):
                if run:
                    found.append(run)
                run = []
                continue
            run.append(word)
        if run:
            found.append(run)
    return found


def _ngrams(run: Sequence[str]) -> list[tuple[str, ...]]:
    return [
        tuple(run[i : i + size])
        for size in range(1, MAX_PHRASE_WORDS + 1)
        for i in range(len(run) - size + 1)
    ]


def _fold(word: str) -> str:
    """Fold case and a plural ending so that "policy" and "Policies" are one term."""
    word = word.casefold()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _verb_like(word: str) -> bool:
    return "-" not in word and word.casefold().endswith(("ing", "ed"))


def extract_keywords(title: str, sentences: Sequence[str], limit: int = MAX_KEYWORDS) -> list[str]:
    """Return the top terms of a paper, as written in its title or abstract.

    Candidates are phrases of up to three content words. A phrase qualifies when it
    occurs in the abstract and twice in all (title occurrences count double), or when
    it is a whole short phrase of the title. It scores by its occurrences with a bonus
    for each extra word and for acronyms. Plurals fold together, phrases never start
    with a verb form (-ing, -ed), and a phrase inside a chosen one is dropped.
    """
    counts: Counter[tuple[str, ...]] = Counter()
    in_abstract: set[tuple[str, ...]] = set()
    whole_title: set[tuple[str, ...]] = set()
    surface: dict[tuple[str, ...], str] = {}
    for weight, text in [(2, title), *((1, s) for s in sentences)]:
        for run in _runs(text):
            if weight == 2 and 1 < len(run) <= MAX_PHRASE_WORDS:
                whole_title.add(tuple(_fold(w) for w in run))
            for gram in _ngrams(run):
                key = tuple(_fold(w) for w in gram)
                counts[key] += weight
                surface.setdefault(key, " ".join(gram))
                if weight == 1:
                    in_abstract.add(key)

    def score(key: tuple[str, ...]) -> float:
        acronym = re.fullmatch(r"[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*", surface[key]) is not None
        return counts[key] * (1.0 + 0.75 * (len(key) - 1)) + (1.0 if acronym else 0.0)

    def eligible(key: tuple[str, ...]) -> bool:
        first = surface[key].split(" ")[0]
        if _verb_like(first) or (len(key) == 1 and first.casefold() in _WEAK):
            return False
        return (key in in_abstract and counts[key] >= 2) or key in whole_title

    chosen: list[tuple[str, ...]] = []
    for key in sorted(filter(eligible, counts), key=lambda k: (-score(k), surface[k].casefold())):
        if any(_contains(c, key) or _contains(key, c) for c in chosen):
            continue
        chosen.append(key)
        if len(chosen) == limit:
            break
    return [surface[key] for key in chosen]


def _contains(outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
    size = len(inner)
    return any(outer[i : i + size] == inner for i in range(len(outer) - size + 1))


def summarize_paper(paper: Paper, taxonomy: Taxonomy, language: str = "ko") -> PaperSummary:
    """Return an extractive summary of ``paper`` (engine ``embedded``).

    ``language`` does not change the fields: they are English sentences of the
    abstract, verbatim. A paper with no usable abstract gets its title as takeaway.
    """
    del language  # NOTE: extracted sentences stay in the paper's own language.
    category, confidence = classify(paper, taxonomy)
    sentences = _usable_sentences(paper.abstract)
    title = normalize_space(paper.title)
    if not sentences:
        keywords = [] if is_unsafe(title) else extract_keywords(title, [])
        text = "" if is_unsafe(title) else title
        return PaperSummary(
            arxiv_id=paper.arxiv_id,
            category=category,
            confidence=confidence,
            takeaway=text,
            problem=text,
            method=text,
            result=text,
            keywords=keywords,
            engine=ENGINE,
        )

    ranked = _rank(sentences)
    takeaway = ranked[0].text
    problem = _pick_problem(sentences)
    method = _pick_method(sentences, default=takeaway, problem=problem)
    result = _pick_result(sentences, default=sentences[-1], method=method)
    return PaperSummary(
        arxiv_id=paper.arxiv_id,
        category=category,
        confidence=confidence,
        takeaway=takeaway,
        problem=problem,
        method=method,
        result=result,
        keywords=extract_keywords("" if is_unsafe(title) else title, sentences),
        engine=ENGINE,
    )


_FRAMES = {
    "ko": {
        "themes": "이 분야의 논문 {n}편은 주로 {keywords}을(를) 다룹니다.",
        "themes_none": "이 분야의 논문 {n}편을 소개합니다.",
        "themes_one": "이 분야의 논문 1편은 {keywords}을(를) 다룹니다.",
        "trends_one": "주요 키워드: {keywords}.",
        "trends": "여러 논문에 공통으로 등장하는 키워드는 {keywords}입니다.",
        "trends_none": (
            "논문마다 초점이 달라 공통 키워드는 뚜렷하지 않습니다. 주요 키워드: {keywords}."
        ),
        "impact": "이 연구들은 {category} 분야에 다음과 같은 접근을 제시합니다: {text}",
        "outlook": "논문들이 짚은 과제는 앞으로의 연구 방향을 보여 줍니다: {text}",
        "impact_one": "이 연구는 {category} 분야에 다음과 같은 접근을 제시합니다: {text}",
        "outlook_one": "이 논문이 짚은 과제는 앞으로의 연구 방향을 보여 줍니다: {text}",
        "join": " / ",
    },
    "en": {
        "themes": "The {n} {papers} in this category mainly deal with {keywords}.",
        "themes_none": "This category has {n} {papers}.",
        "themes_one": "The one paper in this category deals with {keywords}.",
        "trends_one": "Its keywords: {keywords}.",
        "trends": "Keywords shared across papers: {keywords}.",
        "trends_none": "The papers have no keyword in common. Main keywords: {keywords}.",
        "impact": "These works bring the following approaches to {category}: {text}",
        "outlook": "The challenges the papers point out suggest where research goes next: {text}",
        "impact_one": "This work brings the following approach to {category}: {text}",
        "outlook_one": (
            "The challenge the paper points out suggests where research goes next: {text}"
        ),
        "join": " / ",
    },
}


def _papers(n: int) -> str:
    """English number agreement; the Korean frames need none (편)."""
    return "paper" if n == 1 else "papers"


def _frames(language: str) -> dict[str, str]:
    return _FRAMES.get(language, _FRAMES["en"])


def _shared_keywords(records: Sequence[PaperSummary]) -> list[str]:
    """Keyword words found in two or more records, most shared first."""
    by_fold: dict[str, str] = {}
    papers_with: Counter[str] = Counter()
    for record in records:
        folds = set()
        for keyword in record.keywords:
            for word in keyword.split(" "):
                fold = _fold(word)
                if fold in _WEAK or fold in _stop_words():
                    continue
                by_fold.setdefault(fold, word)
                folds.add(fold)
        papers_with.update(folds)
    shared = [f for f, n in papers_with.items() if n >= 2]
    shared.sort(key=lambda f: (-papers_with[f], f))
    return [by_fold[f] for f in shared]


def synthesize_category(
    category: Category,
    papers: list[Paper],
    records: list[PaperSummary],
    language: str = "ko",
) -> CategorySynthesis:
    """Return the five-part synthesis of one category built from its records only.

    Findings cite each record's paper in the order of ``papers`` (records of papers
    not in ``papers`` follow in their own order); the output is deterministic.
    """
    frames = _frames(language)
    order = {p.arxiv_id: i for i, p in enumerate(papers)}
    ordered = sorted(records, key=lambda r: (order.get(r.arxiv_id, len(order)), r.arxiv_id))
    n = len(ordered)

    shared = _shared_keywords(ordered)
    leading = [r.keywords[0] for r in ordered if r.keywords]
    theme_words = (shared + [k for k in leading if k not in shared])[:3]
    # One paper shares nothing with others: its frames say so without a plural.
    single = "_one" if n == 1 else ""
    if theme_words:
        themes = frames["themes" + single].format(
            n=n, papers=_papers(n), keywords=", ".join(theme_words)
        )
    else:
        themes = frames["themes_none"].format(n=n, papers=_papers(n))
    if shared:
        trends = frames["trends"].format(keywords=", ".join(shared[:5]))
    elif single and leading:
        trends = frames["trends_one"].format(keywords=", ".join(leading[:5]))
    else:
        trends = frames["trends_none"].format(keywords=", ".join(leading[:5]) or "-")

    findings = [
        Finding(arxiv_id=r.arxiv_id, text=r.result or r.takeaway)
        for r in ordered
        if r.result or r.takeaway
    ]
    methods = [r.method for r in ordered[:2] if r.method]
    problems = [r.problem for r in ordered[:2] if r.problem]
    impact = frames["impact" + single].format(
        category=category.name, text=frames["join"].join(methods)
    )
    outlook = frames["outlook" + single].format(text=frames["join"].join(problems))
    return CategorySynthesis(
        category=category.id,
        themes=themes,
        trends=trends,
        findings=findings,
        impact=impact,
        outlook=outlook,
        engine=ENGINE,
    )


class EmbeddedSummarizer:
    """The embedded summarizer behind the same interface as ``LLMSummarizer``."""

    engine = ENGINE

    def __init__(self, language: str = "ko") -> None:
        self.language = language

    def start_batch(self) -> None:
        """Nothing to forget: the embedded summarizer cannot be unreachable."""

    def summarize_paper(
        self, paper: Paper, taxonomy: Taxonomy, remaining_ms: Callable[[], int] | None = None
    ) -> PaperSummary:
        """Return the extractive summary of ``paper``; ``remaining_ms`` is not needed."""
        del remaining_ms
        return summarize_paper(paper, taxonomy, self.language)

    def synthesize_category(
        self,
        category: Category,
        papers: list[Paper],
        records: list[PaperSummary],
        remaining_ms: Callable[[], int] | None = None,
    ) -> CategorySynthesis:
        """Return the extractive synthesis of ``category``."""
        del remaining_ms
        return synthesize_category(category, papers, records, self.language)
