"""Query analysis on its own: no index involved."""

import pytest

from clonus_index.query import (concepts, inflection_key, is_english_word, synonym_table,
                                uses_syntax, words_of)


@pytest.mark.parametrize("query", ["what causes clonus?", "why? really", "is it MS?!",
                                   "muscle relaxers", "doctor's office"])
def test_plain_questions_are_not_query_language(query):
    assert not uses_syntax(query)


@pytest.mark.parametrize("query", ['"muscle relaxers"', "cl?nus", "relax*", "botox AND surgery",
                                   "subsection:surgery", "clonsu~2", "(a OR b)", "botox^2"])
def test_query_language_is_recognised(query):
    assert uses_syntax(query)


@pytest.mark.parametrize("forms", [
    ("treat", "treats", "treated", "treating"),
    ("diagnose", "diagnosed", "diagnoses", "diagnosing"),
    ("cause", "causes", "caused", "causing"),
    ("therapy", "therapies"), ("stop", "stopping"), ("doctor", "doctor's", "doctors"),
    ("scan", "scanned", "scanning"), ("identify", "identified", "identifies"),
    ("muscle relaxer", "muscle relaxers"), ("sclerosis",),
])
def test_inflections_share_a_synonym_key(forms):
    assert len({inflection_key(f) for f in forms}) == 1


@pytest.mark.parametrize("a, b", [("operating", "operation"), ("general", "generally"),
                                  ("physical", "physician")])
def test_derived_words_keep_their_own_synonym_key(a, b):
    assert inflection_key(a) != inflection_key(b)


def test_synonyms_follow_inflections_but_not_derivations():
    table = synonym_table()
    by_word = {c.word: c for c in concepts("operation treated operating machinery", synonyms=table)}
    assert "surgery" in by_word["operation"].alternatives
    assert "cure" in by_word["treated"].alternatives
    assert "surgery" not in by_word["operating"].alternatives


def test_concepts_drop_question_words_and_join_synonym_phrases():
    found = concepts("what are the side effects of botulinum toxin?")
    assert [c.word for c in found] == ["side effects", "botulinum toxin"]
    assert "adverse effects" in found[0].alternatives and "botox" in found[1].alternatives
    assert [c.word for c in concepts("what is it")] == ["what", "is", "it"]  # nothing else left


def test_abbreviations_expand_both_ways():
    abbreviations = {"ms": "multiple sclerosis"}
    assert concepts("MS", abbreviations)[0].alternatives == ("multiple sclerosis",)
    long_form = concepts("multiple sclerosis", abbreviations)[0]
    assert long_form.word == "multiple sclerosis" and "ms" in long_form.alternatives


def test_english_words_are_told_from_misspellings():
    for word in ("beat", "worn", "starts", "jerking", "Usually"):
        assert is_english_word(word), word
    for word in ("clonis", "permenant", "mutliple", "seratonin", "botx"):
        assert not is_english_word(word), word
    assert not is_english_word("stoke")  # a rare word: more often a slip for "stroke"


def test_words_keep_apostrophes_inside_words():
    assert words_of("The doctor\u2019s office, isn't it?") == ["the", "doctor's", "office",
                                                               "isn't", "it"]


def test_synonym_phrases_may_hold_stop_words():
    found = concepts("can clonus stop you doing normal day to day stuff")
    day = next(c for c in found if c.word == "day to day")
    assert "everyday" in day.alternatives
    assert "to" not in [c.word for c in found]


def test_a_concept_said_twice_is_one_concept_counted_twice():
    found = concepts("MS and clonus: why would MS do this?", {"ms": "multiple sclerosis"})
    assert [(c.word, c.count) for c in found] == [("ms", 2), ("clonus", 1)]


def test_phrasal_synonyms_and_contractions():
    found = {c.word: c for c in concepts("I've heard they operate on it, when would they?")}
    assert "surgery" in found["operate on"].alternatives
    assert "i've" not in found and "on" not in found
    (bloodwork, _) = concepts("bloodwork for clonus")
    assert "blood test" in bloodwork.alternatives


def test_brackets_without_an_operator_are_punctuation():
    from clonus_index.query import uses_syntax
    assert not uses_syntax("What is (are) Alagille syndrome ?")
    assert not uses_syntax("my son (6) has a rash")
    assert uses_syntax("(botox OR surgery) AND clonus") and uses_syntax('"muscle relaxers"')


def test_concepts_said_only_in_context_sentences_are_marked():
    found = {c.word: c.context for c in concepts(
        "My wife has been diagnosed with vasculitis. She has been vomiting. What is the outlook?")}
    assert found["vasculitis"] and found["vomiting"] and not found["outlook"]
    assert not any(c.context for c in concepts("vasculitis outlook"))
