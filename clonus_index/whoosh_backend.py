"""The Whoosh backend: compiles a plan into a Whoosh query and fetches the first-stage candidates.

Between planning and re-ranking; with ``index.py``, ``whoosh_queries.py``
and ``whoosh_postings.py`` the only modules that import Whoosh. Plain
questions are scored over the build's postings arrays (``whoosh_postings``),
query language and the fuzzy last resort by Whoosh's matchers. It answers planning's ``Lexicon`` questions from the index's
terms, parses query-language input with every expansion bounded before any
matcher is built, and returns the top BM25F matches with their stored
signals, read only for those matches. Each thread gets its own searcher.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass
from itertools import islice
from typing import Any, Iterator, Optional

from whoosh import highlight, query as wq
from whoosh.fields import Schema
from whoosh.qparser import FuzzyTermPlugin, MultifieldParser, OrGroup
from whoosh.scoring import BM25F

from .index import FIELD_BOOSTS, StoredIndex, passage_from_stored, read_index
from .index_folder import current_generation
from .models import Passage
from .planning import MAX_CORRECTIONS, PROXIMITY_BOOST, PROXIMITY_SLOP, Plan
from .ranking import Candidate, Signals
from .whoosh_postings import Clause, Postings, top_documents
from .whoosh_queries import (MAX_BOOST, BestForm, Candidates, Mark, clamped_boost, clause_query,
                             lift_nots)

__all__ = ["WhooshBackend", "highlight_stems", "parse_query_language", "PUBLIC_FIELDS", "MAX_EXPANSIONS", "MAX_FUZZY_DISTANCE",
           "MAX_QUERY_TERMS", "MAX_TERMS", "MAX_EXPANDED_POSTINGS", "MAX_BOOST"]

#: Fields a query may name, and the ones plain questions search.
PUBLIC_FIELDS = ("text", "subsection", "section", "title")
#: Wildcard, prefix, range and fuzzy terms expand to at most this many terms.
MAX_EXPANSIONS = 128
MAX_FUZZY_DISTANCE = 2
#: A query-language query keeps its first this many terms (as a plain question
#: keeps its first ``MAX_QUERY_WORDS`` words) ...
MAX_QUERY_TERMS = 64
#: ... and expands to at most this many terms in all ...
MAX_TERMS = 512
#: ... whose postings (passages per term, summed) stay under this.
MAX_EXPANDED_POSTINGS = 50_000
#: Highlighting remembers the stems of at most this many distinct words.
MAX_REMEMBERED_STEMS = 100_000
#: Index words derived from a word typed: at most this many are looked at.
MAX_DERIVED_LOOKUPS = 256
_STARS = re.compile(r"\*{2,}")
#: What explain shows for a query with no term left to search.
NOTHING_TO_SEARCH = "nothing to search (stop words and patterns without a letter match nothing)"


@dataclass
class _Budget:
    """What is left of one query's allowance of terms, spent as it is expanded."""

    leaves: int = MAX_QUERY_TERMS
    terms: int = MAX_TERMS
    postings: int = MAX_EXPANDED_POSTINGS


class WhooshBackend:
    """One generation of a Whoosh index, searched through one searcher per thread."""

    def __init__(self, stored: StoredIndex):
        self.stored = stored
        self.location = stored.path
        self.meta = stored.meta
        self.articles = stored.articles
        self.folder = stored.generation
        self._schema = stored.ix.schema
        self._analyzer = self._schema["text"].analyzer
        self._local = threading.local()
        self._searchers: list[Any] = []
        self._searchers_lock = threading.Lock()  # taken only to open a thread's searcher
        self._section_keys: Optional[frozenset[str]] = None
        self.postings = _matching_postings(stored)
        self._stems: dict[str, Optional[str]] = {}  # words of hits -> stems, for highlighting

    # -- searchers ---------------------------------------------------------------

    def searcher(self):
        """This thread's searcher (Whoosh searchers are not shared between threads)."""
        found = getattr(self._local, "searcher", None)
        if found is None:
            found = self.stored.ix.searcher(weighting=BM25F())
            with self._searchers_lock:
                self._searchers.append(found)
            self._local.searcher = found
        return found

    @property
    def generation(self) -> str:
        return self.stored.generation.name

    def newest(self) -> Optional[str]:
        return current_generation(self.location)

    def reopen(self) -> "WhooshBackend":
        return WhooshBackend(read_index(self.location))

    def close(self) -> None:
        with self._searchers_lock:
            for s in self._searchers:
                s.close()
            self._searchers.clear()
        self.stored.close()

    # -- the Lexicon planning asks -----------------------------------------------

    def lexicon(self, query: str) -> "WhooshBackend":
        return self  # terms are looked up in the local index as planning asks

    def analyse(self, text: str) -> list[str]:
        return [t.text for t in self._analyzer(text, mode="query")]

    def has_word(self, word: str) -> bool:
        return ("words", word) in self.searcher().reader()

    def has_stem(self, stem: str) -> bool:
        return ("text", stem) in self.searcher().reader()

    def derived_words(self, word: str, max_extra: int) -> tuple[str, ...]:
        terms = islice(self.searcher().reader().expand_prefix("words", word), MAX_DERIVED_LOOKUPS)
        return tuple(t for t in map(_text, terms) if 0 < len(t) - len(word) <= max_extra)

    def suggest(self, word: str, maxdist: int) -> Optional[str]:
        found = [w for w in self.searcher().suggest("words", word, limit=1, maxdist=maxdist,
                                                    prefix=1) if w != word]
        return found[0] if found else None

    def idf(self, stem: str) -> float:
        return self.searcher().idf("text", stem)

    # -- what the index holds ----------------------------------------------------

    def __len__(self) -> int:
        return self.searcher().reader().doc_count()

    def section_keys(self) -> frozenset[str]:
        if self._section_keys is None:
            reader = self.searcher().reader()
            keys = map(_text, reader.lexicon("section_key"))
            if reader.has_deletions():  # a removed article's sections stay in the lexicon
                keys = (k for k in keys if reader.postings("section_key", k).is_active())
            self._section_keys = frozenset(keys)
        return self._section_keys

    def passage(self, docnum: int) -> Passage:
        return passage_from_stored(self.searcher().stored_fields(docnum), self.stored.articles)

    def passage_id(self, docnum: int) -> str:
        return self.searcher().stored_fields(docnum)["id"]

    def find(self, passage_id: str) -> Optional[int]:
        return self.searcher().document_number(id=passage_id)

    def passages(self) -> Iterator[Passage]:
        """Every passage, articles in their stored order, passages in reading order.

        Document order is that order until an update re-adds an article at
        the end; sorting keeps the listing the same as a whole build's.
        """
        articles = self.stored.articles
        order = {aid: n for n, aid in enumerate(articles)}
        stored = sorted(self.searcher().reader().all_stored_fields(),
                        key=lambda f: (order.get(f["article_id"], len(order)), f["position"]))
        for fields in stored:
            yield passage_from_stored(fields, articles)

    def allowed(self, field: str, value: str) -> set[int]:
        """The document numbers whose ``field`` holds ``value`` (a filter)."""
        return set(self.searcher().reader().postings(field, value).all_ids())

    def restrict(self, field: str, value: str, allow: Optional[set[int]]) -> set[int]:
        ids = self.allowed(field, value)
        return ids if allow is None else allow & ids

    # -- compiling a plan -----------------------------------------------------------

    def compile(self, plan: Plan):
        """The Whoosh query of a plan; None when query-language input yields nothing."""
        if plan.syntax is not None:
            return self._parse_syntax(plan.syntax)
        if plan.fuzzy is not None:
            parts = [wq.FuzzyTerm("words", w, maxdist=1 if len(w) < 7 else 2, prefixlength=1)
                     for w in plan.fuzzy[:MAX_CORRECTIONS]]
            return self._bounded(wq.Or(parts), _Budget()) if parts else wq.NullQuery
        concepts, extra = plan_clauses(plan)
        if not concepts:
            return wq.NullQuery
        parts = []
        for forms in concepts:
            ors = [wq.Or([clause_query(c) for c in clauses]) for clauses in forms]
            if not ors:
                parts.append(wq.NullQuery)
            else:
                parts.append(ors[0] if len(ors) == 1 else BestForm(ors))
        parts.extend(clause_query(c) for c in extra)
        return wq.Or(parts)

    def _parse_syntax(self, query: str):
        """Parse query-language input over the public fields; None if it yields nothing."""
        parsed = parse_query_language(query, self._schema)
        if parsed is None:  # malformed syntax: search its words instead
            return None
        parsed = lift_nots(self._bounded(parsed, _Budget())).normalize()
        if parsed is wq.NullQuery or not list(parsed.iter_all_terms()):
            return None
        return parsed

    def _bounded(self, q, budget: _Budget):
        """``q`` with every expansion bounded, before any matcher is built.

        A pattern without a letter or digit (``*``, ``***``, ``?*``,
        ``title:*``) would match every passage and says nothing: it is
        dropped. Wildcard, prefix, range and fuzzy terms expand to at most
        ``MAX_EXPANSIONS`` index terms; past the first ``MAX_QUERY_TERMS``
        terms, ``MAX_TERMS`` expanded ones or ``MAX_EXPANDED_POSTINGS``
        postings, the rest of the query is dropped; boosts are clamped to
        ``MAX_BOOST``.
        """
        if isinstance(q, wq.Every):
            return wq.NullQuery
        if hasattr(q, "boost"):
            q.boost = clamped_boost(q.boost)
        if not q.is_leaf():
            return q.apply(lambda child: self._bounded(child, budget))
        if budget.leaves <= 0 or budget.terms <= 0:
            return wq.NullQuery
        budget.leaves -= 1
        if isinstance(q, (wq.Wildcard, wq.Prefix)) and not any(c.isalnum() for c in q.text):
            return wq.NullQuery
        if isinstance(q, wq.FuzzyTerm):
            q.maxdist = min(q.maxdist, MAX_FUZZY_DISTANCE)
        if isinstance(q, wq.MultiTerm):
            reader = self.searcher().reader()
            terms = []
            for term in islice(q._btexts(reader), min(MAX_EXPANSIONS, budget.terms)):
                budget.postings -= reader.doc_frequency(q.fieldname, term)
                if budget.postings < 0:
                    break
                terms.append(term)
            budget.terms -= len(terms)
            if not terms:
                return wq.NullQuery
            return wq.Or([wq.Term(q.fieldname, t, boost=q.boost) for t in terms])
        budget.terms -= max(1, len(getattr(q, "words", ())))
        return q

    def add(self, sources, progress=None):
        from .updating import add_sources
        return add_sources(self.location, sources, progress=progress)

    def remove(self, article_ids):
        from .updating import remove_articles
        return remove_articles(self.location, article_ids)

    # -- running ---------------------------------------------------------------------

    def candidates(self, q, plan: Plan, allow: Optional[set[int]], wanted: int,
                   deadline: float) -> list[Candidate]:
        """The ``wanted`` best BM25F matches of ``q`` among ``allow``, in reading order.

        Only these matches' stored signals are read. For query-language and
        fuzzy plans the terms each matched are found here; a plain plan's
        concepts are matched by the re-ranking from the signals.
        """
        if q is None or q is wq.NullQuery or (allow is not None and not allow):
            return []
        searcher = self.searcher()
        if self.postings is not None and plan.syntax is None and plan.fuzzy is None:
            top = self._top_from_postings(plan, allow, wanted)
        else:
            # Only query language (wildcards, ranges, fuzzy terms typed by the
            # user) can be hostile; a fuzzy last resort is bounded like it, by work.
            collector = Candidates(wanted, allow,
                                    deadline if plan.syntax is not None else math.inf)
            searcher.search_with_collector(q, collector)
            top = sorted(collector.results().top_n, key=lambda sd: sd[1])
        terms = None
        if plan.syntax is not None or plan.fuzzy is not None:
            terms = {(f, _text(t)) for f, t in q.iter_all_terms()}
        found = []
        for score, docnum in top:
            fields = searcher.stored_fields(docnum)
            signals = Signals.from_dict(json.loads(fields["signals"]))
            matched = None
            if terms is not None:
                words = ({t.text for t in self._schema["words"].analyzer(
                    json.loads(fields["data"])["text"])} if plan.fuzzy is not None else set())
                matched = {(f, t) for f, t in terms
                           if t in (words if f == "words" else signals.stems.get(f, ()))}
            found.append(Candidate(docnum, score, signals, matched))
        return found

    def _top_from_postings(self, plan: Plan, allow: Optional[set[int]],
                           wanted: int) -> list[tuple[float, int]]:
        """The exact top ``wanted`` of a plain plan from the build's postings arrays.

        Scores as the compiled Whoosh query would, without walking its
        matchers; no deadline: the plan's caps bound the work.
        """
        concepts, extra = plan_clauses(plan)
        return top_documents(self.postings, concepts, extra, allow, wanted)

    def searchable(self, q) -> bool:
        """True when ``q`` has a term left to search."""
        return q is not None and bool(list(q.iter_all_terms()))

    def describe(self, q) -> str:
        """``q`` as text for explain; a query with no term left says so."""
        if not self.searchable(q):
            return NOTHING_TO_SEARCH
        return str(q.normalize()) if any(leaf is wq.NullQuery for leaf in q.leaves()) else str(q)

    def highlights(self, text: str, stems: set[str]) -> str:
        """``text`` with the words whose stems are in ``stems`` marked ``**so**``; "" if none.

        What Whoosh's highlighter gives with a whole-text fragment, without
        running the analyzer's filters over every word of every hit: each
        distinct word is stemmed once and remembered.
        """
        if not stems:
            return ""
        pattern = getattr(getattr(self._analyzer, "items", [None])[0], "expression", None)
        if pattern is None:  # not a regular-expression tokenizer: Whoosh's own highlighter
            return highlight.highlight(text, frozenset(stems), self._analyzer,
                                       highlight.WholeFragmenter(charlimit=None), Mark(), top=1)
        out, index = [], 0
        for m in pattern.finditer(text):
            if self._stem_of(m.group()) in stems:
                out += (text[index:m.start()], "**", m.group(), "**")
                index = m.end()
        return "".join(out) + text[index:] if out else ""

    def _stem_of(self, word: str) -> Optional[str]:
        """The stem the analyzer makes of one token (None if it drops it), remembered."""
        found = self._stems.get(word, False)
        if found is False:
            made = [t.text for t in self._analyzer(word, mode="query", removestops=False)]
            found = made[0] if len(made) == 1 else None
            if len(self._stems) >= MAX_REMEMBERED_STEMS:
                self._stems.clear()
            self._stems[word] = found
        return found


def highlight_stems(text: str, stems: set[str], analyzer) -> str:
    """``text`` with the words ``analyzer`` stems to one of ``stems`` marked ``**so**``;
    "" when ``stems`` is empty (the OpenSearch backend highlights with this)."""
    if not stems:
        return ""
    return highlight.highlight(text, frozenset(stems), analyzer,
                               highlight.WholeFragmenter(charlimit=None), Mark(), top=1)


def parse_query_language(query: str, schema: Schema):
    """Query-language input parsed over the public fields as the Whoosh backend parses it;
    None when it is malformed. Expansions are left for the caller to bound."""
    parser = MultifieldParser(list(PUBLIC_FIELDS),
                              Schema(**{name: schema[name] for name in PUBLIC_FIELDS}),
                              fieldboosts=FIELD_BOOSTS, group=OrGroup)
    parser.add_plugin(FuzzyTermPlugin())  # "clonsu~2"; the distance is clamped later
    # "**" is one "*" to a reader; Whoosh's parser splits "**nus" and "c**s" apart.
    query = _STARS.sub("*", query)
    # Parsing costs time in proportion to the text: only the words that can
    # be kept (see ``WhooshBackend._bounded``) are parsed.
    words = query.split()
    if len(words) > MAX_QUERY_TERMS:
        query = " ".join(words[:MAX_QUERY_TERMS])
    try:
        return parser.parse(query)
    except Exception:  # malformed syntax: search its words instead
        return None


def _matching_postings(stored: StoredIndex) -> Optional[Postings]:
    """The generation's postings arrays when they describe exactly its Whoosh index, else None.

    An index built before the arrays existed, or whose Whoosh segments were
    changed after the build (documents added, deleted or renumbered: the
    counts, field lengths and sampled ids must all agree), is searched
    through Whoosh's matchers instead: same results, more time. Code that
    changes a generation's segments keeps the fast path by writing the
    arrays again for the new numbering (``write_postings``).
    """
    postings = Postings.open(stored.generation)
    if postings is None:
        return None
    reader = stored.ix.reader()
    try:
        if (reader.has_deletions() or reader.doc_count_all() != postings.doc_count
                or any(reader.field_length(f) != postings.total_lengths.get(f)
                       for f in PUBLIC_FIELDS)
                or any(reader.stored_fields(d).get("id") != i
                       for d, i in postings.sample_ids.items())):
            return None
    finally:
        reader.close()
    return postings


def plan_clauses(plan: Plan) -> tuple[list[list[list[Clause]]], list[Clause]]:
    """A plain plan's clauses: per concept, per form, one clause per public field; then the bonus.

    A concept's score is its best form's, a form's the sum of its clauses.
    Concepts are taken in order while they fit in ``MAX_TERMS`` field terms
    (the same bound as query language: the work, not the clock). Both the
    Whoosh query and the postings scorer are made from these.
    """
    concepts: list[list[list[Clause]]] = []
    budget = MAX_TERMS
    for c in plan.concepts:
        budget -= len(PUBLIC_FIELDS) * sum(len(form.stems) for form in c.forms)
        if budget < 0:
            break
        concepts.append([[Clause(f, form.stems, round(FIELD_BOOSTS[f] * form.weight, 3))
                          for f in PUBLIC_FIELDS] for form in c.forms])
    extra = []
    if concepts and plan.proximity:
        extra.append(Clause("text", tuple(plan.proximity), PROXIMITY_BOOST, PROXIMITY_SLOP))
    return concepts, extra


def _text(term) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term
