"""Hostile input: whatever people type or feed in, the answer is results or a clear error."""

import random
import re
import string

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from clonus_index import Hit, IngestError, QueryError, build_index
from clonus_index.pipeline import ingest_document
from clonus_index.reading import read_document, read_html, read_text
from clonus_index.searching import MAX_EXPANDED_POSTINGS, MAX_EXPANSIONS, MAX_FUZZY_DISTANCE
from work import calls, search_calls

#: A hang guard, not a speed target: the function calls one search may make.
#: The costliest query seen (three infix wildcards on 20,000 passages) makes
#: about 11 million; a loop without end makes more than any bound. Counted,
#: not timed, so that a busy machine cannot fail it.
MAX_SEARCH_CALLS = 50_000_000

SOUP = ["(((", ")))", "*", "a*b*c*d*", "field:", "NOT NOT", "~~", "^^", "foo:bar", '"', "'",
        "AND", "OR", "NOT", "[a TO z]", "{a TO z}", "term~4", "*a*", "\\", "/", ":", "-", "+",
        "!", "text:", "section:", "data:x", "id:", "~", "^2", "clonus", "botox", "ankle",
        "byesterday~8", "\x00", "\u202e", "\U0001f600", "é", "<b>", "&amp;", "??", "*:*"]


def _check(index, query):
    try:
        hits, work = search_calls(index, query)
    except QueryError:
        hits, work = [], 0
    assert work < MAX_SEARCH_CALLS, query
    assert isinstance(hits, list) and all(isinstance(h, Hit) for h in hits)


def _postings(index, parsed: str) -> int:
    """Postings (passages per term, summed) of the terms in a parsed query's text."""
    reader = index._backend.searcher().reader()
    terms = set(re.findall(r"\b(text|title|section|subsection|words):([^\s()\"^~]+)", parsed))
    return sum(reader.doc_frequency(field, term) for field, term in terms)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
@example("\x00\x01\x02")
@example(" " * 50)
@example("\u200b\u200b")
def test_any_unicode_gives_hits_or_the_documented_error(default_index, query):
    _check(default_index, query)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(SOUP), min_size=1, max_size=12), st.sampled_from([" ", ""]))
def test_query_syntax_soup_gives_hits_or_the_documented_error(default_index, parts, sep):
    _check(default_index, sep.join(parts))


@pytest.mark.slow
def test_a_page_of_gibberish_words_costs_no_more_than_a_few(big_index):
    # Every word unknown, long enough to be spell-corrected and fuzzy-matched:
    # the costliest plain query there is, on the large index. Past the first
    # MAX_CORRECTIONS words nothing more is corrected, so four times the
    # words cost about the same work, where correcting them all costs four times.
    rng = random.Random(3)
    words = ["".join(rng.choice(string.ascii_lowercase) for _ in range(40)) for _ in range(64)]
    _, few = search_calls(big_index, " ".join(words[:16]))
    _, many = search_calls(big_index, " ".join(words))
    assert many < 1.5 * few


def test_very_long_query_gets_a_clear_message(default_index):
    with pytest.raises(QueryError, match=r"query is too long \(100000 characters\); keep it to at most"):
        default_index.search("clonus " * 14285 + "abcde")


@pytest.fixture(scope="module")
def big_index(tmp_path_factory):
    """An index of 3,000 passages over a large random vocabulary, for expansion caps."""
    rng = random.Random(7)
    vocab = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
             for _ in range(20_000)]
    folder = tmp_path_factory.mktemp("big")
    for a in range(30):
        paragraphs = []
        for _ in range(100):
            words = " ".join(rng.choice(vocab) for _ in range(25))
            paragraphs.append(words.capitalize() + ".")
        (folder / f"article-{a:02d}.txt").write_text("  ".join(paragraphs))
    return build_index([folder], tmp_path_factory.mktemp("big-index") / "ix")


@pytest.mark.slow
@pytest.mark.parametrize("query", ["*a*", "a*", "term~4", "byesterday~8", "[a TO z]", "{a TO zz}",
                                   "text:*e*", "*a* OR *e* OR *i*", "a*b*c*d*"])
def test_expansions_are_capped_on_a_large_index(big_index, query):
    hits = big_index.search(query, explain=True)
    if hits:
        parsed = hits.parsed
        assert parsed.count("text:") <= 3 * MAX_EXPANSIONS + 10
        assert not re.search(r"~([3-9]|\d\d)", parsed)
        # The work of matching: the postings of the terms searched, not the clock.
        assert _postings(big_index, parsed) <= MAX_EXPANDED_POSTINGS


def test_fuzzy_distance_is_clamped(default_index):
    hits = default_index.search("clonsu~8")
    assert hits and "clonus" in hits[0].passage.text.lower()
    assert f"~{MAX_FUZZY_DISTANCE + 1}" not in hits.parsed


# ---------------------------------------------------------------------------
# Hostile sources
# ---------------------------------------------------------------------------

_words = st.lists(st.text(alphabet=string.ascii_letters, min_size=1, max_size=9), min_size=3, max_size=14)
_paragraph = _words.map(lambda ws: " ".join(ws).capitalize() + ".")


def _wrap(p, how):
    return {
        0: f"<p>{p}</p>",
        1: f"<div><span><b>{p}</b></span></div>",
        2: f"<p>{p}",                               # unclosed
        3: f"<div class='x' data-junk='{'z' * 5000}'><p>{p}</p></div>",
        4: f"<section><div><div><div><p>{p}</p></div></div></div></section>",
        5: f"<li>{p}</li>",
        6: f"<p><i>{p}</p></i>",                     # crossed tags
    }[how]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_paragraph, st.integers(0, 6)), min_size=1, max_size=12))
def test_html_paragraphs_are_never_lost(paragraphs):
    page = "<html><body><article><h1>Title</h1>" + "".join(_wrap(p, how) for p, how in paragraphs)
    doc = read_html(page)
    article, passages = ingest_document(doc)
    body = " ".join(p.text for p in passages)
    for paragraph, _ in paragraphs:
        assert paragraph in body


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2000))
def test_arbitrary_text_gives_passages_or_a_clear_error(tmp_path_factory, text):
    for suffix in (".txt", ".html"):
        path = tmp_path_factory.mktemp("src") / f"any{suffix}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            doc = read_document(path)
        except IngestError as exc:
            assert str(exc).startswith(str(path))
            continue
        article, passages = ingest_document(doc)
        assert passages or not any(b.kind == "text" for b in doc.blocks)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000))
def test_binary_junk_gives_passages_or_a_clear_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bin") / "junk.html"
    path.write_bytes(data)
    try:
        read_document(path)
    except IngestError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)


#: Pages nested or left unclosed as deep as ``n``.
NESTED = {
    "divs": lambda n: "<div>" * n + "<p>Deep text survives.</p>" + "</div>" * n,
    "unclosed bold": lambda n: "<p>" + "<b>" * n + "Unclosed text survives.",
    "nested lists": lambda n: "<ul>" + "<li>Nested item survives.<ul>" * n,
    "unclosed items": lambda n: "<ul>" + "<li>Unclosed item survives." * n + "</ul>",  # html.parser nests them
    "lists in a paragraph": lambda n: "<p>Intro:" + "<ul><li>Item in a paragraph survives.</li></ul>" * n + "</p>",
}


@pytest.mark.parametrize("make, n", [(NESTED["divs"], 20_000), (NESTED["unclosed bold"], 20_000),
                                     (NESTED["nested lists"], 3_000), (NESTED["unclosed items"], 20_000),
                                     (NESTED["lists in a paragraph"], 3_000)],
                         ids=["divs", "unclosed bold", "nested lists", "unclosed items",
                              "lists in a paragraph"])
def test_pathological_nesting_is_read_in_full(make, n):
    doc = read_html(make(n))
    texts = [b.text for b in doc.blocks]
    assert "survives" in " ".join(texts)
    # Each item is read once, as itself: no item's text repeats inside another.
    assert max(t.count("survives") for t in texts) == 1


@pytest.mark.parametrize("name", list(NESTED))
def test_reading_pathological_nesting_grows_linearly_with_the_depth(name):
    # Counted work, not time: four times as deep costs about four times the
    # function calls in a linear reader, sixteen times in a quadratic one.
    read_html(NESTED[name](50))  # first use: imports and caches
    _, shallow = calls(read_html, NESTED[name](500))
    _, deep = calls(read_html, NESTED[name](2_000))
    assert deep < 4 * shallow * 1.5


def test_wrongly_declared_encodings(tmp_path):
    latin = tmp_path / "latin.html"
    latin.write_bytes('<meta charset="utf-8"><p>Caf\xe9 au lait.</p>'.encode("latin-1"))
    with pytest.raises(IngestError, match=r"latin\.html: not UTF-8 text .*re-save it as UTF-8"):
        read_document(latin)
    utf8 = tmp_path / "utf8.html"
    utf8.write_bytes('<meta charset="iso-8859-1"><p>Café au lait is fine.</p>'.encode("utf-8"))
    assert [b.text for b in read_document(utf8).blocks] == ["Café au lait is fine."]


# ---------------------------------------------------------------------------
# Bounds at scale: 20,000 passages
# ---------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("query", [
    "title:* ANDNOT ?*?*?*", "data:* )) title:* ) -clonus ANDNOT ?*?*?* }", "*:* OR text:*",
    "*a* OR *e* OR *i*", "[a TO z] OR *o*~2", "a* b* c* d* e* f* g* h* i* j* k* l* m*",
])
def test_expanding_queries_are_bounded_on_20000_passages(large_index, query):
    from clonus_index.searching import MAX_TERMS
    hits = large_index.search(query, explain=True)
    # Bounded before any matcher is built: the terms searched and their postings.
    assert hits.parsed.count(":") <= MAX_TERMS + 10
    assert "<Every" not in hits.parsed and "*" not in hits.parsed
    assert _postings(large_index, hits.parsed) <= MAX_EXPANDED_POSTINGS + len(large_index)


@pytest.mark.slow
def test_random_hostile_queries_are_bounded_on_20000_passages(large_index):
    rng = random.Random(11)
    for _ in range(6):
        query = rng.choice([" ", ""]).join(rng.choice(SOUP) for _ in range(rng.randint(2, 10)))
        _check(large_index, query)


def test_a_long_query_costs_no_more_than_its_first_quarter(default_index):
    """20,000 characters of query syntax or 400 words of gibberish: only the first words count.

    Counted work, not time: past the first ``MAX_QUERY_TERMS`` terms (or
    ``MAX_QUERY_WORDS`` words) nothing more is parsed or planned, so a query
    costs about what its first quarter costs; parsing it all costs four times.
    """
    from clonus_index.searching import MAX_QUERY_TERMS
    rng = random.Random(5)
    default_index.search("warm up the dictionary: qwzx")
    fuzzy = " ".join(f"{rng.choice(['clonus', 'spasm', 'botox', 'ankle'])}~2"
                     for _ in range(3000))[:20_000]
    wild = " ".join(f"{rng.choice(string.ascii_lowercase)}*" for _ in range(7000))[:20_000]
    gibberish = " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 12)))
                         for _ in range(400))
    for query in (fuzzy, wild, gibberish):
        _, quarter = search_calls(default_index, query[:len(query) // 4], explain=True)
        hits, whole = search_calls(default_index, query, explain=True)
        assert whole < 1.5 * quarter
        if hits:
            assert hits.parsed.count("~") + hits.parsed.count(":") <= 8 * MAX_QUERY_TERMS
