"""Re-ranking: signals computed at build time, factors, and a stable order."""

from clonus_index.index import section_keys
from clonus_index.planning import Form, Plan, PlannedConcept
from clonus_index.query import Concept
from clonus_index.ranking import Candidate, Signals, factors, passage_signals, rerank


def _signals(seed_corpus, analyse):
    return passage_signals(seed_corpus.passages, lambda p: section_keys(p).split(","), analyse)


def _analyse(index):
    return index._backend.analyse


def test_signals_are_computed_once_from_the_passages(seed_corpus, default_index):
    signals = _signals(seed_corpus, _analyse(default_index))
    passages = seed_corpus.passages
    assert len(signals) == len(passages) == 28
    assert {s.article_size for s in signals} == {28}
    assert [s.position for s in signals] == list(range(28))
    leads = [p.section for p, s in zip(passages, signals) if s.section_lead]
    assert leads == list(dict.fromkeys(p.section for p in passages))
    botox = next(s for p, s in zip(passages, signals) if p.subsection == "Botox injections")
    assert botox.heading == ("botox", "inject") and "treatment" in botox.kinds
    assert botox.openings[0][:3] == ("peopl", "clonus", "respond")
    assert "botox" in botox.stems["text"] and "clonus" in botox.stems["title"]


def test_signals_round_trip_through_their_stored_form(seed_corpus, default_index):
    for s in _signals(seed_corpus, _analyse(default_index)):
        assert Signals.from_dict(s.to_dict()) == s


def _candidate(key, score, **kw):
    base = dict(stems={"text": frozenset({"botox"})}, openings=(), heading=(),
                kinds=frozenset(), section_lead=False, position=5, article_size=10)
    base.update(kw)
    return Candidate(key, score, Signals(**base))


def test_factors_and_a_stable_order():
    botox = PlannedConcept(Concept("botox"), (Form(("botox",), 1.0),), 2.0)
    ankle = PlannedConcept(Concept("ankle"), (Form(("ankl",), 1.0),), 1.0)
    plan = Plan("botox ankle", (botox, ankle), intents=frozenset({"Treatment"}))
    both = _candidate(1, 1.0, stems={"text": frozenset({"botox", "ankl"})},
                      heading=("botox", "inject"), kinds=frozenset({"treatment"}),
                      section_lead=True)
    f = factors(both, plan)
    assert f == {"coverage": 1.0, "heading": 1.5, "intent": 1.4, "section_lead": 1.25}
    one = _candidate(2, 1.0)
    assert factors(one, plan) == {"coverage": 0.3 + 0.7 * (2 / 3) ** 2}
    # Equal scores keep the backend's order.
    ranked = rerank([_candidate(3, 1.0), _candidate(4, 1.0), both], plan)
    assert [c.key for _, c in ranked] == [1, 3, 4]


def test_a_section_heading_naming_a_concept_counts_when_no_intent_chose_sections():
    inherited = PlannedConcept(Concept("inherited"), (Form(("inherit",), 1.0),), 1.0)
    gout = PlannedConcept(Concept("gout"), (Form(("gout",), 1.0),), 2.0)
    plan = Plan("is gout inherited", (gout, inherited), topics=frozenset({0}))
    under = _candidate(1, 1.0, stems={"text": frozenset({"gout"}), "section": frozenset({"inherit"}),
                                      "topic": frozenset({"gout"})})
    assert factors(under, plan)["section_heading"] == 1.25 and factors(under, plan)["topic"] == 1.0
    titled = _candidate(2, 1.0, stems={"section": frozenset({"gout"}), "topic": frozenset({"gout"})})
    assert "section_heading" not in factors(titled, plan)  # the topic in a heading says nothing
    asked = Plan("is gout inherited", (gout, inherited), intents=frozenset({"Causes"}))
    assert "section_heading" not in factors(under, asked)


def test_title_words_that_are_not_the_topic_cover_nothing():
    trigger = PlannedConcept(Concept("triggers"), (Form(("trigger",), 1.0),), 1.0)
    plan = Plan("triggers", (trigger,))
    titled = _candidate(1, 1.0, stems={"text": frozenset({"migrain"}),
                                       "title": frozenset({"migrain", "trigger"}),
                                       "topic": frozenset({"migrain"})})
    said = _candidate(2, 1.0, stems={"text": frozenset({"trigger"}), "topic": frozenset({"migrain"})})
    assert factors(titled, plan)["coverage"] == 0.3 and factors(said, plan)["coverage"] == 1.0
