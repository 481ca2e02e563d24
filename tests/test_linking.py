import os
import subprocess
import sys
from pathlib import Path

from clonus_index.linking import link_references, s_stem, topic_terms
from clonus_index.models import Reference

from conftest import passage_with


def _linked(passage):
    return [r.short() for r in passage.references]


def test_named_passages_link_to_the_references_that_speak_to_them(seed_corpus):
    assert _linked(passage_with(seed_corpus, "Serotonin syndrome is a potentially")) == \
        ["Volpi-Abadie et al. 2013"]
    assert _linked(passage_with(seed_corpus, "Botox therapy involves")) == \
        ["Mcguinness et al. 2013"]
    assert "Shulman and Annetta 2013" in _linked(passage_with(seed_corpus, "A stroke starves"))


def test_links_carry_their_score_and_terms(seed_corpus):
    p = passage_with(seed_corpus, "Botox therapy involves")
    (link,) = p.links
    assert 0.4 <= link.score <= 1.0
    assert set(link.terms) == {"botulinum", "toxin"}  # "Botox" stands for botulinum toxin


def test_passages_no_reference_speaks_to_stay_unlinked(seed_corpus):
    for phrase in ("Clonus spasms often occur", "Surgery is often the last resort",
                   "Using heat packs", "This may cause a sustained pulsing in the ankle"):
        assert passage_with(seed_corpus, phrase).links == ()
    unlinked = sum(1 for p in seed_corpus.passages if not p.links)
    assert unlinked >= len(seed_corpus.passages) - 6


def test_a_reference_sharing_only_common_words_links_nowhere():
    passages = ["Treatment of gout helps.", "Gout treatment varies.", "Diet and treatment.",
                "Treatment again and gout.", "Rest is the only treatment."]
    ref = Reference(id="r", authors=(), year=None, title="Gout treatment", raw="Gout treatment")
    assert link_references(passages, [ref]) == [()] * 5


def test_topic_terms_fold_plurals_and_drop_notes():
    assert topic_terms("Clonus: Definition, mechanisms, therapies [Review]") == \
        ["clonus", "definition", "mechanism", "therapy"]
    assert s_stem("toxins") == "toxin" and s_stem("clonus") == "clonus"


def test_a_word_of_a_synonym_phrase_does_not_stand_for_the_group():
    # "brain attack" means stroke, but "brain" alone does not: passages about
    # the brain must not link to a paper on stroke.
    passages = ["The brain controls movement.", "A stroke damages the brain.",
                "Brain cells need oxygen.", "Nerves carry signals.", "Muscles contract."]
    ref = Reference(id="r", authors=(), year=None, title="Stroke", raw="Stroke")
    links = link_references(passages, [ref])
    assert [bool(l) for l in links] == [False, True, False, False, False]


def test_in_a_short_article_a_word_in_half_the_passages_is_no_evidence():
    passages = ["Heel pain starts slowly.", "Rest eases the pain.", "Ice helps the pain too.",
                "Shoes matter.", "Stretch each morning.", "See a doctor if it lasts."]
    ref = Reference(id="r", authors=(), year=None, title="Pain in adults", raw="Pain in adults")
    assert link_references(passages, [ref]) == [()] * 6


def test_reference_links_do_not_depend_on_the_hash_seed(tmp_path):
    """Ingestion workers are separate interpreters: they must give the same links.

    In this generated article two references tie for a passage; their scores
    were sums over a set, so which came first changed with the hash seed.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        import make_corpora
    finally:
        sys.path.pop(0)
    article = tmp_path / "article.txt"
    article.write_text(make_corpora.generated_article(195), "utf-8")
    script = ("import json, sys, clonus_index; c = clonus_index.ingest([sys.argv[1]]); "
              "print(json.dumps([p.to_dict()['references'] for p in c.passages]))")
    runs = {subprocess.run([sys.executable, "-c", script, str(article)], capture_output=True,
                           text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2", "3", "4", "5", "6")}
    assert len(runs) == 1
