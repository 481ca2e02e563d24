import json

import pytest

import clonus_index
from clonus_index import QueryError
from work import search_calls


def _first(index, query, **kw):
    hits = index.search(query, **kw)
    assert hits, query
    return hits[0].passage


def test_shortcut_searches_the_bundled_article():
    hits = clonus_index.search("botox for ankle clonus")
    top = hits[0]
    assert top.rank == 1 and top.score > 0
    assert top.passage.subsection == "Botox injections"
    assert top.passage.section == "Treatment"
    assert [r.short() for r in top.passage.references] == ["Mcguinness et al. 2013"]
    assert top.passage.article.published.isoformat() == "2018-06-08"
    assert "**Botox**" in top.highlights
    assert top.highlights.replace("**", "") == top.passage.text
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def _plain(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


def test_hit_to_dict_is_plain_json(default_index):
    hit = default_index.search("serotonin syndrome", limit=1)[0]
    data = hit.to_dict()
    assert _plain(data)
    assert json.loads(json.dumps(data)) == data
    assert data["passage"]["id"] == hit.passage.id
    assert data["article"]["title"] == "What is clonus? Everything you need to know"
    assert data["article"]["source"] == "clonus_index/corpus/mnt-what-is-clonus.txt"
    assert data["citation"]["apa"].startswith("Johnson, J. (2018, June 8).")
    assert [r["title"] for r in data["references"]] == ["Serotonin syndrome"]


def test_question_words_do_not_dominate(default_index):
    assert _first(default_index, "what is the outlook for clonus").section == "Outlook"
    assert _first(default_index, "what can cause clonus").section == "Causes"
    assert _first(default_index, "how is it diagnosed").section == "Diagnosis"


def test_section_filter(default_index):
    hits = default_index.search("clonus", section="treatment", limit=50)
    assert hits and {h.passage.section for h in hits} == {"Treatment"}
    with pytest.raises(QueryError, match="unknown section 'Cures'; choose one of: Symptoms"):
        default_index.search("clonus", section="Cures")


@pytest.mark.parametrize("query, limit, message", [
    ("", 5, "query is empty"), ("   \t\n", 5, "query is empty"),
    ("clonus", 0, "limit must be a whole number of 1 or more"),
    ("clonus", "3", "limit must be"), ("x" * 20_001, 5, "query is too long"),
])
def test_bad_requests_raise_query_error(default_index, query, limit, message):
    with pytest.raises(QueryError, match=message) as info:
        default_index.search(query, limit=limit)
    assert isinstance(info.value, ValueError)


def test_query_language_stays_available(default_index):
    p = _first(default_index, '"muscle relaxers"')
    assert "muscle relaxers" in p.text
    hits = default_index.search("botox AND surgery", limit=50)
    assert all("otox" in h.passage.text and "urg" in h.passage.text for h in hits)
    assert default_index.search("injections NOT botox") == []  # every one mentions Botox
    no_botox = default_index.search("injections OR surgery NOT botox", limit=50)
    assert [h.passage.subsection for h in no_botox] == ["Surgery"]
    assert _first(default_index, "subsection:surgery").subsection == "Surgery"


@pytest.mark.parametrize("query", ['"botox injections', "(botox injections", "botox AND",
                                   "AND", "OR botox", "data:botox", "id:x botox", "botox)"])
def test_malformed_or_private_syntax_still_searches_the_words(default_index, query):
    hits = default_index.search(query)
    if any(c.isalpha() for c in query.replace("AND", "").replace("OR", "")):
        assert hits and "Botox" in hits[0].passage.text


def test_spelling_is_corrected_and_reported(default_index):
    hits = default_index.search("clonsu symptoms")
    assert hits.corrected_query == "clonus symptoms"
    assert hits.to_dict()["corrected_query"] == "clonus symptoms"
    assert default_index.search("clonus symptoms").corrected_query is None


def test_abbreviations_are_mined_from_the_text(default_index):
    assert default_index.abbreviations() == {"ms": "multiple sclerosis",
                                             "mri": "magnetic resonance imaging"}
    assert "Multiple sclerosis (MS)" in _first(default_index, "MS").text


def test_long_query_is_bounded(default_index):
    # Counted work, not time: only the first words of a long question are
    # searched, so it costs what its first quarter costs.
    query = " ".join(["clonus", "botox", "stroke", "ankle"] * 1250)[:10_000]
    _, quarter = search_calls(default_index, query[:2_500])
    hits, whole = search_calls(default_index, query)
    assert hits
    assert whole < 1.5 * quarter


def test_passages_get_and_len(default_index):
    passages = default_index.passages()
    assert len(default_index) == len(passages) == 28
    assert [p.position for p in passages] == list(range(28))
    p = default_index.get(passages[3].id)
    assert p == passages[3]
    with pytest.raises(KeyError, match="no passage with id 'nope'"):
        default_index.get("nope")


def test_explain_shows_the_expanded_query_and_matches(default_index):
    hit = default_index.search("clonsu prognosis", explain=True)[0]
    ex = hit.explanation
    assert "outlook" in ex["parsed_query"]
    assert {"word": "prognosis", "corrected": None, "alternatives": ["outlook"]} in ex["concepts"]
    assert ex["concepts"][0]["corrected"] == "clonus"
    assert "outlook" in ex["matched"]["text"]


def test_a_question_mark_is_punctuation_not_a_wildcard(default_index):
    with_mark = default_index.search("how is clonus diagnosed?", explain=True)
    without = default_index.search("how is clonus diagnosed", explain=True)
    assert [h.passage.id for h in with_mark] == [h.passage.id for h in without]
    assert with_mark[0].passage.section == "Diagnosis"
    assert with_mark[0].explanation["intents"] == ["Diagnosis"]


@pytest.mark.parametrize("one, repeated", [("*nus", "**nus"), ("c*s", "c**s"),
                                           ("clo*", "clo***"), ("text:*nus", "text:***nus"),
                                           ("sp*m AND cl*s", "sp**m AND cl****s")])
def test_repeated_stars_are_one_wildcard(default_index, one, repeated):
    single = default_index.search(one, explain=True)
    assert single and all("*" not in t for h in single for t in h.matched_terms)
    many = default_index.search(repeated, explain=True)
    assert many.parsed == single.parsed
    assert [h.passage.id for h in many] == [h.passage.id for h in single]


def test_english_words_the_index_lacks_are_not_corrected(default_index):
    hits = default_index.search("do clonus jerks happen in a regular beat", explain=True)
    assert hits.corrected_query is None  # "beat" stays "beat", not "heat"
    assert all("heat" not in h.explanation["matched"].get("text", []) for h in hits)
    assert default_index.search("clonis").corrected_query == "clonus"


def test_derived_index_words_stand_in_for_a_missing_word(default_index):
    hits = default_index.search("muscle twitching in a rhythm", explain=True)
    rhythm = next(c for c in hits[0].explanation["concepts"] if c["word"] == "rhythm")
    assert rhythm["corrected"] is None and "rhythmic" in rhythm["alternatives"]
    assert "rhythmic pattern" in hits[0].passage.text


def test_a_heading_naming_the_question_counts_as_aboutness(default_index):
    hit = default_index.search("physiotherapy for clonus", explain=True)[0]
    assert hit.passage.subsection == "Physical therapy"
    assert "heading" in hit.explanation["factors"]


def test_misspelt_question_words_are_corrected_against_the_query_vocabulary(default_index):
    # "permanent" is in no passage, but it is a word questions use: the
    # correction still asks for the outlook.
    hits = default_index.search("is clonus permenant", explain=True)
    assert hits.corrected_query == "is clonus permanent"
    assert hits[0].explanation["intents"] == ["Outlook"] and hits[0].passage.section == "Outlook"
    # A corrected synonym brings its group along.
    hits = default_index.search("physiotheraphy")
    assert hits.corrected_query == "physiotherapy"
    assert hits[0].passage.subsection == "Physical therapy"


def test_a_rare_english_word_may_still_be_a_slip(default_index):
    hits = default_index.search("can a stoke cause clonus")
    assert hits.corrected_query == "can a stroke cause clonus"
    assert "stroke" in hits[0].passage.text.lower()


def test_the_cap_on_corrections_leaves_other_word_handling_alone(default_index):
    # Ten misspellings, then a word the index has only derived forms of.
    query = "qwrtz plkmn zxcvq wqrtp mnbvz lkjhq poiuz asdfq ghjkz vbnmq rhythm"
    concepts = default_index.search(query, explain=True)[0].explanation["concepts"]
    rhythm = next(c for c in concepts if c["word"] == "rhythm")
    assert "rhythmic" in rhythm["alternatives"]


# ---------------------------------------------------------------------------
# Filters, paging and limits on a large index
# ---------------------------------------------------------------------------

@pytest.mark.slow
def test_section_and_article_filters_on_a_large_index(large_index):
    # "pain" is in thousands of passages: far more than one page of candidates.
    hits = large_index.search("pain", section="Treatment", limit=60)
    assert len(hits) == 60 and {h.passage.section for h in hits} == {"Treatment"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    words = large_index.get("synthetic-0007-p20").text  # a passage of its Symptoms section
    hits = large_index.search(words, section="symptoms", article="synthetic-0007", limit=50)
    assert hits and {(h.passage.section, h.passage.article_id) for h in hits} == {
        ("Symptoms", "synthetic-0007")}
    assert len(large_index.search("pain OR itchy", article="synthetic-0150", limit=100)) <= 100
    with pytest.raises(QueryError, match=r"unknown article 'nope'; list article ids with: "
                                         r"clonus-index info"):
        large_index.search("pain", article="nope")


@pytest.mark.slow
def test_results_are_not_capped_at_fifty_and_pages_follow_each_other(large_index):
    assert len(large_index.search("pain", limit=200)) == 200
    whole = large_index.search("pain treatment", limit=30)
    page = large_index.search("pain treatment", limit=10, offset=10)
    assert [h.passage.id for h in page] == [h.passage.id for h in whole[10:20]]
    assert [h.rank for h in page] == list(range(11, 21))


@pytest.mark.slow
@pytest.mark.parametrize("query", ["pain treatment", "pain"])
def test_pages_across_the_re_ranked_candidates_repeat_and_skip_nothing(large_index, query):
    """Ten pages of ten are the first 100 hits: the same hits, in the same order, once each."""
    whole = [(h.passage.id, h.rank) for h in large_index.search(query, limit=100)]
    pages = [(h.passage.id, h.rank) for offset in range(0, 100, 10)
             for h in large_index.search(query, limit=10, offset=offset)]
    assert pages == whole and len({pid for pid, _ in pages}) == 100
    scores = [h.score for h in large_index.search(query, limit=100)]
    assert scores == sorted(scores, reverse=True)
    # The first stage is exact: the best hit does not depend on how many are asked for.
    assert large_index.search(query, limit=1)[0].passage.id == whole[0][0]


def test_paging_on_the_bundled_index(default_index):
    whole = default_index.search("clonus", limit=10)
    assert [h.passage.id for h in default_index.search("clonus", limit=4, offset=3)] == \
        [h.passage.id for h in whole[3:7]]
    assert default_index.search("clonus", offset=28) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"offset": -1}, "offset must be a whole number of 0 or more"),
    ({"offset": "2"}, "offset must be a whole number"),
    ({"limit": 100_000}, r"offset \+ limit is 100000; at most 1000 hits can be ranked"),
    ({"limit": 10, "offset": 995}, r"offset \+ limit is 1005"),
    ({"article": "no-such-article"}, "unknown article 'no-such-article'"),
])
def test_bad_paging_and_filters_raise_query_error(default_index, kwargs, message):
    with pytest.raises(QueryError, match=message):
        default_index.search("clonus", **kwargs)


def test_article_filter_and_article_id(default_index):
    hits = default_index.search("clonus", article="what-is-clonus")
    assert hits and all(h.passage.article_id == "what-is-clonus" for h in hits)
    assert hits[0].passage.article_id == hits[0].passage.to_dict()["article_id"]


def test_one_default_limit_for_the_api_and_the_module_function(default_index):
    assert len(default_index.search("clonus")) == 10
    assert len(clonus_index.search("clonus")) == 10


def test_index_has_a_readable_repr(seed_index):
    text = repr(seed_index)
    assert text.startswith("<Index ") and str(seed_index.path) in text
    assert "1 article(s), 28 passages" in text and seed_index.info()["generation"] in text


# ---------------------------------------------------------------------------
# Lifecycle: close and refresh
# ---------------------------------------------------------------------------

def test_searching_a_closed_index_says_so(seed_path, tmp_path):
    index = clonus_index.build_index([seed_path], tmp_path / "ix")
    index.close()
    with pytest.raises(clonus_index.IndexStateError, match=r"this index was closed; open it "
                                                           r"again with clonus_index\.open_index"):
        index.search("clonus")
    assert "closed" in repr(index)


def test_closing_twice_is_harmless(seed_path, tmp_path):
    """close() may be called again, and ``with`` may close an index already closed."""
    with clonus_index.build_index([seed_path], tmp_path / "ix") as index:
        index.close()
    index.close()
    with pytest.raises(clonus_index.IndexStateError, match="this index was closed"):
        index.refresh()


def test_refresh_serves_a_rebuilt_index(seed_path, data_dir, tmp_path):
    path = tmp_path / "ix"
    clonus_index.build_index([seed_path], path)
    index = clonus_index.open_index(path)
    assert index.refresh() is False
    assert not [h for h in index.search("gout") if "gout" in h.passage.text.lower()]
    clonus_index.build_index([seed_path, data_dir / "gout.html"], path)
    assert len(index) == 28  # the generation it opened, until it refreshes
    assert index.refresh() is True
    assert "gout" in index.search("gout")[0].passage.text.lower()
    assert len(index) > 28 and index.refresh() is False


def test_module_search_sees_a_rebuilt_bundled_index(monkeypatch, tmp_path, data_dir):
    from clonus_index import bundled, index as storage, searching
    from clonus_index.pipeline import ingest

    monkeypatch.setenv("CLONUS_INDEX_DIR", str(tmp_path / "bundled"))
    monkeypatch.setattr(searching, "_default", None)
    assert clonus_index.search("clonus")
    assert not [h for h in clonus_index.search("gout") if "gout" in h.passage.text.lower()]
    # Another process rebuilds the bundled index (same sources hash, so it stays fresh).
    opened = searching._default
    with bundled.bundled_sources() as corpus_dir:
        digest = storage.sources_hash([corpus_dir])
        corpus = ingest([corpus_dir, data_dir / "gout.html"])
    storage.write_index(corpus, tmp_path / "bundled", sources_digest=digest)
    assert "gout" in clonus_index.search("gout")[0].passage.text.lower()
    assert searching._default is opened  # refreshed, not reopened


# ---------------------------------------------------------------------------
# What a query may not do
# ---------------------------------------------------------------------------

def test_an_ordinary_word_is_never_fuzzily_matched_to_another(default_index):
    for query in ("beat", "regular beat"):
        hits = default_index.search(query, explain=True)
        matched = {t for h in hits for ts in h.explanation["matched"].values() for t in ts}
        assert "best" not in matched and "heat" not in matched, query
    assert default_index.search("clonnus")  # a misspelling still finds its word


@pytest.mark.parametrize("query", ["*", "***", "?*", "*?*?*", "title:*", "text:*", "*:*",
                                   "title:* ANDNOT ?*?*?*"])
def test_patterns_without_a_letter_match_nothing(default_index, query):
    # "*" always matched nothing; "***" and the others now do the same, not every word.
    assert default_index.search(query) == []


def test_boosts_are_clamped_and_scores_stay_finite(default_index):
    import math
    from clonus_index.searching import MAX_BOOST
    huge = default_index.search("clonus^1" + "0" * 400 + " botox", explain=True)
    assert huge and all(math.isfinite(h.score) for h in huge)
    assert f"^{MAX_BOOST}" in huge.parsed and "inf" not in huge.parsed
    text = json.dumps(huge.to_dict(), allow_nan=False)  # raises on Infinity/NaN
    assert json.loads(text)["hits"]
    assert default_index.search("clonus^-5")


def test_one_index_serves_many_threads_with_the_same_answers(seed_index):
    from concurrent.futures import ThreadPoolExecutor
    queries = ["what causes clonus", "botox for ankle clonus", "clonsu symptoms", "relax*",
               "how is it diagnosed", "is clonus permanent"] * 4
    expected = {q: [h.passage.id for h in seed_index.search(q)] for q in set(queries)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda q: (q, [h.passage.id for h in seed_index.search(q)]),
                                queries))
    assert all(ids == expected[q] for q, ids in answers)
    # Each thread searched with a searcher of its own.
    assert len(seed_index._backend._searchers) >= 2


def test_opening_reads_stored_signals_instead_of_analysing(seed_index, monkeypatch):
    from clonus_index import ranking
    monkeypatch.setattr(ranking, "passage_signals", None)  # opening must not need it
    index = clonus_index.open_index(seed_index.path)
    assert index.search("botox")[0].passage.subsection == "Botox injections"
    assert index.sections()[:2] == ["Symptoms", "Causes"]
    assert index.abbreviations()["ms"] == "multiple sclerosis"
