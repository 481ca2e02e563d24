"""Topics: an article's subject and aliases, and the topic-first ranking they drive."""

import json
from pathlib import Path

import pytest

from clonus_index import build_index, ingest
from clonus_index.evaluate import answers, evaluate, Question
from clonus_index.topics import aliases, article_topic, subject_words

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SEED = ROOT / "source" / "mnt-what-is-clonus.txt"


@pytest.mark.parametrize("title, subject", [
    ("What is clonus? Everything you need to know", ["clonus"]),
    ("Migraine: symptoms, triggers and treatment", ["migraine"]),
    ("Frozen shoulder: Causes, stages, and how long it lasts", ["frozen", "shoulder"]),
    ("Metformin: Uses, dosage, side effects, and what to avoid", ["metformin"]),
    ("What to know about psoriatic arthritis", ["psoriatic", "arthritis"]),
    ("Polycystic Kidney Disease", ["polycystic", "kidney", "disease"]),
    ("Symptoms", ["symptoms"]),  # a title made only of section words is its own subject
])
def test_the_subject_of_a_title_leaves_out_section_words_and_filler(title, subject):
    assert subject_words(title) == subject


@pytest.mark.parametrize("text, subject, expected", [
    ("Shingles, also called herpes zoster, is a viral infection.", ["shingles"], ["herpes zoster"]),
    ("A needle goes into the spine. It is sometimes called a spinal tap.", ["lumbar", "puncture"],
     ["spinal tap"]),
    ("You can buy ibuprofen under brand names such as Advil, Motrin, and Nurofen. It helps.",
     ["ibuprofen"], ["advil", "motrin", "nurofen"]),
    ("Polycystic kidney disease (PKD) is inherited.", ["polycystic", "kidney", "disease"], ["pkd"]),
    # Another thing's other name is no alias of the subject.
    ("Gout is caused by a build-up of a substance called urate, also known as uric acid, in the blood.",
     ["gout"], []),
    ("Multiple sclerosis (MS) can cause clonus.", ["clonus"], []),
])
def test_aliases_are_the_names_the_article_gives_its_subject(text, subject, expected):
    assert aliases(text, subject) == expected


def test_the_topic_holds_the_stems_of_the_subject_and_its_aliases():
    stems = article_topic("Tennis elbow (lateral epicondylitis): Symptoms and treatment",
                          "Tennis elbow, also known as tendinopathy of the elbow, hurts.",
                          lambda text: text.lower().split())
    assert stems == {"tennis", "elbow", "lateral", "epicondylitis", "tendinopathy", "of", "the"}


MIGRAINE = """<html><head><title>Migraine: symptoms, triggers and treatment</title></head><body>
<article><h1>Migraine: symptoms, triggers and treatment</h1>
<p>Migraine is a common neurological condition that causes a throbbing headache, usually on one
side of the head, often with nausea and sensitivity to light.</p>
<h2>Causes</h2>
<p>The exact cause of migraine is not known. Changes in brain chemicals and in the blood vessels
of the head seem to play a part, and migraine often runs in families.</p>
<p>Common triggers include stress, missing meals, too little sleep, bright lights, alcohol and
hormonal changes around a period.</p>
<h2>Treatment</h2>
<p>Painkillers such as ibuprofen help many people if they are taken early in an attack. Triptans
are medicines that reverse the changes in the brain that cause migraine.</p>
<p>For chronic migraine, on 15 or more days a month, Botox injections into the head and neck every
12 weeks can cut the number of headache days.</p>
</article></body></html>
"""


@pytest.fixture(scope="module")
def two_articles(tmp_path_factory):
    folder = tmp_path_factory.mktemp("two")
    (folder / "migraine.html").write_text(MIGRAINE, encoding="utf-8")
    return build_index([SEED, folder / "migraine.html"], folder / "index")


@pytest.mark.parametrize("question, key", [
    # The clonus Botox passage has the heading "Botox injections" and opens with
    # Botox; the question's topic is migraine.
    ("is botox used for migraine?", "Botox injections into the head and neck"),
    ("can botox help chronic migraine", "Botox injections into the head and neck"),
    # Every migraine passage has "triggers" in its title: the one that says it wins.
    ("what triggers a migraine?", "Common triggers include"),
    ("botox for clonus", "Botox"),
])
def test_the_question_topic_chooses_the_article_and_its_words_the_passage(two_articles, question, key):
    hit = two_articles.search(question, limit=1, explain=True)[0]
    assert key in hit.passage.text, (question, hit.passage.text[:80], hit.explanation["factors"])
    topic = "migraine" if "migraine" in question else "clonus"
    assert topic in hit.passage.article.title.lower()


def test_explain_shows_the_topic_factor(two_articles):
    hits = two_articles.search("is botox used for migraine?", limit=50, explain=True)
    by_article = {h.passage.article.title.split(":")[0].split("?")[0]: h.explanation["factors"]["topic"]
                  for h in reversed(hits)}
    assert by_article["Migraine"] == 1.0 and by_article["What is clonus"] < 0.5


def test_a_single_article_ranks_as_before_when_every_passage_shares_the_topic(two_articles):
    hits = two_articles.search("botox", limit=10, explain=True)
    assert all("topic" not in h.explanation["factors"] for h in hits)  # "botox" names no article


#: Questions of the blind articles asked of one index of all 18 articles and the
#: bundled one: the question's topic must find its article among 19.
BLIND_FLOOR = {"success@1": 0.46, "mrr@10": 0.545}


def test_blind_questions_over_one_index_of_many_articles(tmp_path):
    sources, questions = [SEED], []
    for n in (1, 2, 3):
        folder = DATA / "blind" / f"set{n}"
        sources += sorted(folder.glob("*.html"))
        files = sorted(folder.glob("*.questions.jsonl")) or [ROOT / "benchmarks" / "heldout" / "set3_questions.jsonl"]
        questions += [json.loads(line) for f in files for line in f.read_text().splitlines() if line.strip()]
    index = build_index(sources, tmp_path / "index")
    report = evaluate(lambda q: [h.passage.text for h in index.search(q, limit=10)],
                      [Question(d["q"], tuple(d["keys"]), d["kind"]) for d in questions])
    assert len(questions) == 216
    for metric, floor in BLIND_FLOOR.items():
        assert report.overall[metric] >= floor, report.overall
