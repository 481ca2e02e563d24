"""The benchmarks' own parts: generated corpora, MedQuAD conversion, baselines, alignment."""

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import clonus_index

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.append(str(BENCH))  # last: the tests' own helper modules come first

import make_corpora as corpora  # noqa: E402  (the path must be set first)
import medquad  # noqa: E402
import systems  # noqa: E402


def test_generated_articles_are_deterministic_and_distinct():
    assert corpora.generated_article(7) == corpora.generated_article(7)
    assert corpora.generated_article(7) != corpora.generated_article(8)
    assert corpora.generated_queries(50, 5, 2) == corpora.generated_queries(50, 5, 2)


def test_generated_articles_read_as_cited_articles_with_their_own_conditions(tmp_path, monkeypatch):
    monkeypatch.setenv("CLONUS_BENCH_CACHE", str(tmp_path))
    paths = corpora.generated_corpus(4)
    corpus = clonus_index.ingest(paths)
    assert len({a.id for a in corpus.articles}) == 4
    for i, article in enumerate(corpus.articles):
        condition = corpora._profile(i)["c"]
        assert condition.lower() in article.title.lower()
        assert article.author and article.published and article.url
        assert len(article.references) >= 2
    assert 10 * 4 <= len(corpus.passages) <= 45 * 4
    assert not any("Please use one of the following" in p.text for p in corpus.passages)
    assert {"Symptoms", "Causes", "Treatment"} <= {p.section for p in corpus.passages}


def test_medquad_answers_split_into_paragraphs_and_list_items():
    answer = "Key Points\n   - Cells grow.    - Cells spread.\n  \n  First paragraph.   Second one."
    assert corpora._pieces(answer) == [("p", "Key Points"), ("li", "Cells grow."), ("li", "Cells spread."),
                                       ("p", "First paragraph."), ("p", "Second one.")]
    assert corpora._pieces("Options:\n  -\n   Surgery.   -   Radiation.\n  After.") == [
        ("p", "Options:"), ("li", "Surgery."), ("li", "Radiation."), ("p", "After.")]


def test_medquad_pages_give_one_section_per_question_type(tmp_path):
    pairs = [("symptoms", "What are the symptoms of X ?", [("p", "X causes a rash on the arms."),
                                                            ("li", "A rash."), ("li", "A fever.")]),
             ("exams and tests", "How to diagnose X ?", [("p", "Doctors test the blood for X.")])]
    page = tmp_path / "GARD-0001.html"
    page.write_text(corpora._html_page("Xeroderma test", "https://example.org/x", pairs), encoding="utf-8")
    corpus = clonus_index.ingest([page])
    assert corpus.articles[0].title == "Xeroderma test"
    assert {p.section for p in corpus.passages} == {"Symptoms", "Exams and tests"}
    flat = tmp_path / "GARD-0001.txt"
    flat.write_text(corpora._flat_text(pairs), encoding="utf-8")
    text = " ".join(p.text for p in clonus_index.ingest([flat]).passages)
    assert "A rash." in text and "Doctors test the blood for X." in text
    assert "Symptoms" not in text


def test_paragraphs_take_the_section_of_most_of_their_text():
    truth = [["Alpha beta gamma.", "Overview", "information"], ["Delta epsilon.", "Causes", "causes"]]
    passages = [SimpleNamespace(text="Alpha beta", section="Types"),
                SimpleNamespace(text="gamma. Delta epsilon.", section="Causes")]
    assert medquad.inferred_sections(truth, passages) == ["Types", "Causes"]
    assert medquad.inferred_sections(truth, []) == [None, None]


@pytest.mark.parametrize("system", ["whoosh", "fts5", "bm25s"])
def test_baselines_rank_the_passage_that_shares_the_words(system, tmp_path):
    if system == "bm25s":
        pytest.importorskip("bm25s")
        pytest.importorskip("Stemmer")
    passages = [{"id": f"p{i}", "title": t, "section": s, "text": x} for i, (t, s, x) in enumerate([
        ("Gout", "Treatment", "Colchicine relieves a gout attack within hours."),
        ("Gout", "Causes", "Uric acid crystals build up in the joints."),
        ("Migraine", "Symptoms", "A throbbing headache on one side of the head."),
    ])]
    systems.build(system, passages, tmp_path / system)
    search, _ = systems.open_searcher(system, tmp_path / system)
    assert search("what causes uric acid crystals?", 2)[0] == "p1"
    assert search("?!", 2) == []


@pytest.mark.parametrize("script", ["scale.py", "medquad.py", "medquad_sections.py", "make_corpora.py",
                                    "systems.py"])
def test_benchmark_scripts_explain_themselves(script):
    proc = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "usage" in (proc.stdout + proc.stderr).lower() or "python benchmarks/" in proc.stdout + proc.stderr
