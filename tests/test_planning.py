"""Planning: queries into engine-neutral plans, asked of the index through its Lexicon."""

import pytest

from clonus_index.planning import _closest, _question_words, fuzzy_words, make_plan
from clonus_index.query import synonym_table


def _plan(index, query, **kw):
    backend = index._backend
    return make_plan(query, backend, index.abbreviations(), synonym_table(), **kw)


def test_a_question_becomes_concepts_with_stemmed_forms_and_weights(default_index):
    plan = _plan(default_index, "how are botox injections for clonus given?")
    words = [c.concept.word for c in plan.concepts]
    assert words[:3] == ["botox", "injections", "clonus"]
    botox = plan.concepts[0]
    assert botox.forms[0].stems == ("botox",) and botox.forms[0].weight == 1.0
    assert all(f.weight == 0.7 for f in botox.forms[1:]) and len(botox.forms) > 1
    assert plan.concepts[1].forms[0].stems == ("inject",)
    # The rare word weighs more than the word of every passage.
    assert botox.weight > plan.concepts[2].weight > 0
    assert plan.proximity[:3] == ("botox", "inject", "clonus")
    assert plan.syntax is None and plan.fuzzy is None


def test_intent_definition_filters_and_corrections_are_in_the_plan(default_index):
    plan = _plan(default_index, "what is clonsu", section="Treatment", article="what-is-clonus")
    assert plan.definition and plan.corrected == "what is clonus"
    assert (plan.section, plan.article) == ("Treatment", "what-is-clonus")
    assert _plan(default_index, "how is it diagnosed").intents == {"Diagnosis"}


def test_query_language_is_left_to_the_backend(default_index):
    plan = _plan(default_index, '"muscle relaxers" OR botox')
    assert plan.syntax == '"muscle relaxers" OR botox' and plan.concepts == ()
    words = _plan(default_index, '"muscle relaxers" OR botox', syntax=False)
    assert [c.concept.word for c in words.concepts] == ["muscle", "relaxers", "botox"]


def test_the_fuzzy_last_resort_skips_ordinary_words(default_index):
    plan = fuzzy_words(_plan(default_index, "beat xqlonus"))
    assert plan.fuzzy == ("xqlonus",)


def test_question_words_correct_what_the_index_lacks():
    assert _closest("permenant", _question_words(), 2) == "permanent"
    assert _closest("physiotheraphy", _question_words(), 2) == "physiotherapy"
    assert _closest("zzzzzz", _question_words(), 2) is None


SPELLING_ARTICLE = """<html><head><title>Urinary infections</title></head><body><article>
<h1>Urinary infections</h1>
<p>Citrobacter is a germ that can infect the bladder. Doctors treat it with ciprofloxacin.</p>
<p>A stench in the urine, a stench that lasts, or a stench with fever needs a test. The stench
may go. The results are updated every day.</p>
<p>Gentle exercises stretch the pelvic muscles. Blood thinners raise the risk of bleeding.</p>
</article></body></html>
"""


@pytest.fixture(scope="module")
def spelling_index(tmp_path_factory):
    from clonus_index import build_index
    folder = tmp_path_factory.mktemp("spelling")
    (folder / "urinary.html").write_text(SPELLING_ARTICLE, encoding="utf-8")
    return build_index([folder / "urinary.html"], folder / "index")


@pytest.mark.parametrize("typed, corrected", [
    ("citrobactor", "citrobacter"),
    ("ciproflaxin", "ciprofloxacin"),  # a long name may be three edits off
    ("strech", "stretch"),  # one edit away beats the commoner "stench", two away
    ("uprate", None),  # a real (rare) word two edits from an ordinary one is another word
    ("thiner", "thinners"),  # a word no dictionary has is a slip, even two edits away
])
def test_misspelt_names_are_corrected_to_the_nearest_corpus_word(spelling_index, typed, corrected):
    plan = _plan(spelling_index, f"{typed} infection")
    assert plan.concepts[0].concept.corrected == corrected
