"""The rule-based classifier on the golden set and on hand-made edge cases."""

from __future__ import annotations

from paperdigest.classify import LabelledPaper, accuracy, classify, scores
from paperdigest.models import Paper
from paperdigest.taxonomy import Taxonomy

# The six golden papers span five categories, so always answering the most frequent
# one scores 2/6. We require 5/6: the hints were tuned on these papers (in-sample), and
# one of them, "A Preliminary Study of o1 in Medicine", is a genuine LLM/medicine toss-up
# (its two best scores differ by about 2%), so one miss must not fail the build, while
# two misses would mean the rules have regressed.
MIN_GOLDEN_ACCURACY = 5 / 6

# The eight unlabelled papers of the day, with the categories a reader could defend.
PLAUSIBLE = {
    "2409.15268": {"llm"},
    "2409.15273": {"cv"},
    "2409.13910": {"nlp"},
    "2409.14393": {"cv", "imitation", "rl"},
    "2409.13191": {"medicine", "llm"},
    "2409.13926": {"cv"},
    "2409.13773": {"llm"},
    "2409.14340": {"multimodal", "cv", "nlp"},
}


def test_golden_accuracy_meets_threshold(golden: list[LabelledPaper], taxonomy: Taxonomy) -> None:
    # Given the six papers of the reference digest whose abstracts we have
    assert len(golden) == 6

    # When they are classified
    measured = accuracy(golden, taxonomy)

    # Then enough of them land in their golden category
    print(f"golden-set accuracy: {measured:.3f} ({round(measured * 6)}/6)")
    assert measured >= MIN_GOLDEN_ACCURACY


def test_unlabelled_papers_get_a_plausible_category(
    hf_papers: list[Paper], taxonomy: Taxonomy
) -> None:
    for paper in hf_papers:
        if paper.arxiv_id in PLAUSIBLE:
            category, confidence = classify(paper, taxonomy)
            assert category in PLAUSIBLE[paper.arxiv_id], paper.title
            assert 0.0 <= confidence <= 1.0


def test_primary_arxiv_category_decides_without_text(taxonomy: Taxonomy) -> None:
    paper = Paper(
        arxiv_id="1",
        title="On a result",
        abstract="",
        primary_category="quant-ph",
        categories=["quant-ph"],
    )

    assert classify(paper, taxonomy)[0] == "quantum"


def test_primary_category_outweighs_a_secondary_one(taxonomy: Taxonomy) -> None:
    paper = Paper(
        arxiv_id="1",
        title="t",
        abstract="",
        primary_category="cs.CL",
        categories=["cs.CL", "cs.CV"],
    )

    by_id = scores(paper, taxonomy)

    assert by_id["nlp"] > by_id["cv"] > 0


def test_no_evidence_gives_other(taxonomy: Taxonomy) -> None:
    paper = Paper(arxiv_id="1", title="A note on tax law", abstract="We discuss tax law.")

    assert classify(paper, taxonomy) == ("other", 0.0)


def test_hints_match_whole_words_only(taxonomy: Taxonomy) -> None:
    # "kan" is a hint of Neural Networks; "Kansas" must not count for it.
    paper = Paper(arxiv_id="1", title="Kansas", abstract="Kansas and Arkansas.")

    assert scores(paper, taxonomy)["nn"] == 0.0


def test_title_weighs_more_than_abstract(taxonomy: Taxonomy) -> None:
    in_title = Paper(arxiv_id="1", title="Quantum circuits", abstract="We study circuits.")
    in_abstract = Paper(arxiv_id="2", title="Circuits", abstract="We study quantum circuits.")

    assert scores(in_title, taxonomy)["quantum"] > scores(in_abstract, taxonomy)["quantum"]


def test_ambiguous_evidence_gives_other(taxonomy: Taxonomy) -> None:
    # One hint each for two categories, nothing else: too thin and tied.
    paper = Paper(arxiv_id="1", title="Notes", abstract="A robot and a patient.")

    category, confidence = classify(paper, taxonomy)

    assert category == "other"
    assert confidence < 0.5
