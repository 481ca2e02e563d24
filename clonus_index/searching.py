"""Search: ranked, highlighted, cited passages from an index.

The last stage before output. Plain questions become an OR of concepts
(each with its synonyms, abbreviation and spelling variants) ranked by
BM25F over text, section, subsection and title, then re-ranked by how many
of the question's concepts a passage covers. Query-language input is parsed
by Whoosh, with every expansion bounded so no query can run away.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
import time
from bisect import bisect_left
from functools import lru_cache
from collections import Counter
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Optional

from whoosh import highlight, query as wq
from whoosh.collectors import TermsCollector, TopCollector
from whoosh.fields import Schema
from whoosh.qparser import FuzzyTermPlugin, MultifieldParser, OrGroup
from whoosh.scoring import BM25F
from whoosh.spelling import ListCorrector

from .errors import IndexDamagedError, IndexStateError, QueryError
from .index_folder import current_generation
from .index import (FIELD_BOOSTS, StoredIndex, bundled_index, bundled_sources, make_schema,
                    passage_from_stored, read_index, sources_hash, write_index)
from .pipeline import ingest
from .models import Article, Hit, Passage
from .query import (Concept, concepts, inflection_key, is_english_word, mine_abbreviations,
                    synonym_table, uses_syntax, validate, words_of)
from .resources import load
from .sections import asks_definition, intent_kinds
from .segment import split_sentences

__all__ = ["Index", "Results", "open_index", "build_index", "search", "SEARCH_SECONDS",
           "MAX_EXPANSIONS", "MAX_FUZZY_DISTANCE", "MAX_QUERY_TERMS", "MAX_TERMS",
           "MAX_EXPANDED_POSTINGS", "MAX_BOOST",
           "MAX_RESULTS", "DEFAULT_LIMIT"]

#: Fields a query may name, and the ones plain questions search.
PUBLIC_FIELDS = ("text", "subsection", "section", "title")
#: A search stops collecting after this long and returns what it has: a
#: safety net for hostile input; the caps below bound an ordinary search first.
SEARCH_SECONDS = 2.0
#: Wildcard, prefix, range and fuzzy terms expand to at most this many terms.
MAX_EXPANSIONS = 128
MAX_FUZZY_DISTANCE = 2
#: A query-language query keeps its first this many terms (as a plain question
#: keeps its first ``MAX_QUERY_WORDS`` words) ...
MAX_QUERY_TERMS = 64
#: ... and expands to at most this many terms in all.
MAX_TERMS = 512
#: ... whose postings (passages per term, summed) stay under this.
MAX_EXPANDED_POSTINGS = 50_000
#: A boost (``clonus^3``) is clamped to 0 .. this.
MAX_BOOST = 100.0
#: How many hits are returned when no limit is given (API and CLI alike).
DEFAULT_LIMIT = 10
#: ``offset + limit`` may be at most this: hits are ranked among this many
#: candidates at most.
MAX_RESULTS = 1000
#: A word the index lacks also searches index words that extend it by at most
#: this many letters ("rhythm" -> "rhythmic").
MAX_DERIVED_SUFFIX = 3
#: Longer words are never spell-corrected: no word is that long, and the
#: correctors' cost grows with the length (a pasted 5,000-letter "word").
MAX_CORRECTED_LENGTH = 48
#: At most this many unknown words of one query are spell-corrected.
MAX_CORRECTIONS = 8
#: How many BM25F candidates the concept-coverage re-ranking looks at. Hits
#: after these follow BM25F order, so that pages (``offset``) follow each other.
CANDIDATES = 50
#: A concept said several times weighs up to this many times as much in coverage.
MAX_CONCEPT_COUNT = 2
#: Weight of a synonym or expansion relative to the word typed.
ALTERNATIVE_WEIGHT = 0.7
#: Re-ranking: score * (COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * coverage ** 2).
COVERAGE_FLOOR = 0.3
#: Bonus weight of the whole question's words appearing close together.
PROXIMITY_BOOST = 0.5
PROXIMITY_SLOP = 2
#: Re-ranking factors, each explainable on its own:
#: a sentence of the passage opens with something the question asks about;
SUBJECT_BOOST = 0.3
#: the passage's subsection heading names something the question asks about;
HEADING_BOOST = 0.5
#: the passage is in a section the question asks for ("how is it treated");
INTENT_BOOST = 0.4
#: for "what is X" questions, earlier passages (up to this much for the first);
LEAD_BOOST = 0.3
#: the first passage of the section the question asks for, which usually
#: sums the section up ("what causes clonus" -> the opening of Causes).
SECTION_LEAD_BOOST = 0.25


class _Mark(highlight.Formatter):
    """Marks matched terms as ``**term**``: readable as is, easy to colour."""

    between = ""

    def format_token(self, text, token, replace=False):
        return f"**{highlight.get_text(text, token, replace)}**"


class _Candidates(TopCollector):
    """The top ``limit`` matches among the allowed documents, collected until a deadline.

    Filtering here rather than in the query keeps Whoosh's block-quality
    skipping (which ``Require`` with a top-N collector trips over) out of it;
    at the deadline collection stops and keeps what it has. Block-quality
    skipping and matcher replacement are off: with BM25F and DisMax they drop
    real top matches (the best match of 20,000 passages missing from the top
    50 but present in the top 100), and the top N must be exact for pages to
    follow each other. The query plan's caps bound what is scored.
    """

    def __init__(self, limit: int, allow: Optional[set[int]], deadline: float):
        super().__init__(limit=limit, replace=0)
        self._allow = allow
        self._deadline = deadline

    def matches(self):
        allow = self._allow
        for n, sub_docnum in enumerate(super().matches()):
            if not n % 64 and time.monotonic() > self._deadline:
                return
            if allow is None or self.offset + sub_docnum in allow:
                yield sub_docnum


class Results(list):
    """The hits of one search, best first, plus how the query was understood.

    A plain ``list`` of ``Hit`` to iterate over; ``corrected_query`` is the
    query with spelling corrections, or None when nothing was corrected.
    """

    def __init__(self, hits: Iterable[Hit], query: str, corrected_query: Optional[str],
                 parsed: str, section: Optional[str], article: Optional[str] = None,
                 offset: int = 0):
        super().__init__(hits)
        self.query = query
        self.corrected_query = corrected_query
        self.parsed = parsed
        self.section = section
        self.article = article
        self.offset = offset

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"query": self.query, "corrected_query": self.corrected_query}
        if self.section:
            data["section"] = self.section
        if self.article:
            data["article"] = self.article
        if self.offset:
            data["offset"] = self.offset
        data["hits"] = [h.to_dict() for h in self]
        return data


@dataclass
class _Plan:
    """A query ready to run: the Whoosh query, the concepts, and the corrected text."""

    query: Any
    concepts: list[Concept] = field(default_factory=list)
    corrected: Optional[str] = None
    concept_terms: list[set[tuple[str, bytes]]] = field(default_factory=list)
    concept_stems: list[list[tuple[str, ...]]] = field(default_factory=list)
    concept_weights: list[float] = field(default_factory=list)
    intents: set[str] = field(default_factory=set)
    definition: bool = False


class Index:
    """An opened index: search it, list or fetch its passages.

    Get one with :func:`open_index` or :func:`build_index`. Safe to share
    between threads (searches on one ``Index`` take turns); open one per
    thread or process to search in parallel.
    """

    def __init__(self, stored: StoredIndex):
        self._lock = threading.Lock()
        self._closed = False
        self._load(stored)

    def _load(self, stored: StoredIndex) -> None:
        """Read what search needs from ``stored`` and make it the index served."""
        self._stored = stored
        self._searcher = stored.ix.searcher(weighting=BM25F())
        self._schema = stored.ix.schema
        reader = self._searcher.reader()
        records = list(reader.all_stored_fields())
        order = {aid: i for i, aid in enumerate(stored.articles)}
        passages = sorted((passage_from_stored(f, stored.articles) for f in records),
                          key=lambda p: (order[p.article.id], p.position))
        self._passages = {p.id: p for p in passages}
        self._sections = list(dict.fromkeys(p.section for p in passages))
        # What a section filter or an intent may name: each passage's section and kind.
        self._kinds = {f["id"]: set(f["section_key"].split(",")) for f in records}
        self._section_keys = sorted(set().union(*self._kinds.values()))
        self._article_sizes = Counter(p.article.id for p in passages)
        self._section_leads = {p.id for i, p in enumerate(passages)
                               if i == 0 or passages[i - 1].article.id != p.article.id
                               or passages[i - 1].section != p.section}
        self._headings = {p.id: tuple(self._tokens("text", p.subsection or "")) for p in passages}
        # Re-ranking and query-analysis data, computed once per opened index.
        self._vocabulary = {_text(t) for t in reader.lexicon("words")}
        self._sorted_vocabulary = sorted(self._vocabulary)
        self._stems = {_text(t) for t in reader.lexicon("text")}
        self._openings = {p.id: self._openings_of(p.text) for p in passages}
        self._abbreviations = mine_abbreviations(a.text for a in stored.articles.values())
        self._synonyms = synonym_table()

    def _openings_of(self, text: str) -> list[tuple[str, ...]]:
        """The first content-word stems of each sentence: what the sentence is about.

        List lead-ins ("Other causes of clonus include:") are left out: what
        they are about is in the list that follows, not in them.
        """
        return [tuple(self._tokens("text", block[a:b])[:4])
                for block in text.split("\n\n") for a, b in split_sentences(block)
                if not block[a:b].rstrip().endswith(":")]

    # -- introspection -------------------------------------------------------

    @property
    def path(self) -> Path:
        """The index folder."""
        return self._stored.path

    @property
    def meta(self) -> dict:
        """Build metadata: schema version, sources hash, counts, build time."""
        return dict(self._stored.meta)

    def __len__(self) -> int:
        return len(self._passages)

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._passages)} passages"
        return (f"<Index {str(self.path)!r} {self._stored.generation.name} "
                f"{len(self._stored.articles)} article(s), {state}>")

    def close(self) -> None:
        """Release the index files; a second call does nothing.

        Searching a closed index raises ``IndexStateError``.
        """
        with self._lock:
            if not self._closed:
                self._closed = True
                self._searcher.close()

    def _check_open(self) -> None:
        if self._closed:
            raise IndexStateError(f"{self.path}: this index was closed; open it again with "
                                  "clonus_index.open_index(PATH)")

    def refresh(self) -> bool:
        """Serve the index's newest generation if a build replaced it since it was opened.

        Returns True when it switched to a new generation, False when the
        generation served is still the current one. Searches already running
        finish on the generation they started on.
        """
        self._check_open()
        if current_generation(self.path) in (None, self._stored.generation.name):
            return False
        stored = read_index(self.path)
        with self._lock:
            self._check_open()
            old = self._searcher
            self._load(stored)
            old.close()
        return True

    def articles(self) -> list[Article]:
        return list(self._stored.articles.values())

    def sections(self) -> list[str]:
        """Section names in reading order."""
        return list(self._sections)

    def passages(self) -> list[Passage]:
        """Every passage, articles in source order, passages in reading order."""
        return list(self._passages.values())

    def get(self, passage_id: str) -> Passage:
        """The passage with this id; ``KeyError`` when there is none."""
        try:
            return self._passages[passage_id]
        except KeyError:
            raise KeyError(f"no passage with id {passage_id!r}; list ids with: "
                           "clonus-index passages") from None

    def info(self) -> dict[str, Any]:
        """What the index holds and where it lives (the ``info`` command's data)."""
        counts: dict[str, int] = {}
        for p in self._passages.values():
            counts[p.article.id] = counts.get(p.article.id, 0) + 1
        meta = self._stored.meta
        return {
            "path": str(self.path), "generation": self._stored.generation.name,
            "schema_version": meta.get("schema_version"),
            "library_version": meta.get("library_version"), "built": meta.get("built"),
            "sources_hash": meta.get("sources_hash"), "passages": len(self),
            "references": sum(len(a.references) for a in self.articles()),
            "sections": self.sections(),
            "articles": [{"id": a.id, "title": a.title, "source": a.source,
                          "passages": counts.get(a.id, 0), "references": len(a.references)}
                         for a in self.articles()],
        }

    def abbreviations(self) -> dict[str, str]:
        """Abbreviations found in the articles ("ms" -> "multiple sclerosis")."""
        return dict(self._abbreviations)

    # -- search ----------------------------------------------------------------

    def search(self, query: str, limit: int = DEFAULT_LIMIT, section: Optional[str] = None,
               explain: bool = False, offset: int = 0, article: Optional[str] = None) -> Results:
        """Ranked hits for ``query``, best first (a ``Results`` list of ``Hit``).

        ``limit`` hits are returned after skipping the first ``offset`` (for
        paging; ``offset + limit`` is at most ``MAX_RESULTS``). ``section``
        keeps only passages of that section (its name or its kind, any case),
        ``article`` only passages of the article with that id. Raises
        ``QueryError`` (a ``ValueError``) for an empty query, a limit below 1,
        a negative offset, or an unknown section or article, and
        ``IndexStateError`` once the index is closed.
        """
        deadline = time.monotonic() + SEARCH_SECONDS
        query = validate(query, limit)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise QueryError(f"offset must be a whole number of 0 or more, not {offset!r}")
        if offset + limit > MAX_RESULTS:
            raise QueryError(f"offset + limit is {offset + limit}; at most {MAX_RESULTS} hits "
                             "can be ranked: narrow the query, or use --section or --article")
        with self._lock:
            self._check_open()
            allow = self._allowed(section, article)
            plan = self._plan(query)
            wanted = max(CANDIDATES, offset + limit)
            found = self._run(plan.query, allow, wanted, deadline)
            if not found and plan.concepts and time.monotonic() < deadline:
                plan = self._fuzzy_plan(plan)
                found = self._run(plan.query, allow, wanted, deadline)
            ranked = self._rerank(found[:CANDIDATES], plan)
            for score, hit in self._rerank(found[CANDIDATES:], plan, keep_order=True):
                ranked.append((min(score, ranked[-1][0]), hit))  # scores never rise
            ranked = ranked[offset:offset + limit]
            hits = [self._hit(rank, score, hit, plan, explain)
                    for rank, (score, hit) in enumerate(ranked, offset + 1)]
        return Results(hits, query, plan.corrected, str(plan.query), section, article, offset)

    def _allowed(self, section: Optional[str], article: Optional[str]) -> Optional[set[int]]:
        """The document numbers the filters let through; None when there is no filter."""
        allow: Optional[set[int]] = None
        reader = self._searcher.reader()
        if section is not None:
            key = section.strip().lower() if isinstance(section, str) else None
            if key not in self._section_keys:
                raise QueryError(f"unknown section {section!r}; choose one of: "
                                 + ", ".join(self._sections))
            allow = set(reader.postings("section_key", key).all_ids())
        if article is not None:
            if not isinstance(article, str) or article not in self._stored.articles:
                raise QueryError(f"unknown article {article!r}; list article ids with: "
                                 "clonus-index info")
            ids = set(reader.postings("article_id", article).all_ids())
            allow = ids if allow is None else allow & ids
        return allow

    # -- planning --------------------------------------------------------------

    def _tokens(self, fieldname: str, text: str) -> list[str]:
        return [t.text for t in self._schema[fieldname].analyzer(text, mode="query")]

    def _plan(self, query: str) -> _Plan:
        if uses_syntax(query):
            parsed = self._parse_syntax(query)
            if parsed is not None:
                return _Plan(parsed)
        found = self._correct(concepts(query, self._abbreviations, self._synonyms))
        if not found:
            return _Plan(wq.NullQuery)
        parts = []
        concept_terms: list[set[tuple[str, bytes]]] = []
        concept_stems: list[list[tuple[str, ...]]] = []
        concept_weights: list[float] = []
        for c in found:
            q, terms, stems = self._concept_query(c)
            parts.append(q)
            concept_terms.append(terms)
            concept_stems.append(stems)
            concept_weights.append(self._concept_weight(stems) * min(c.count, MAX_CONCEPT_COUNT))
        # Proximity: the question's own content words close together in the text.
        stems = [s for c in found for s in self._tokens("text", c.corrected or c.word)]
        if len(stems) > 1:
            parts.append(wq.Phrase("text", stems, slop=PROXIMITY_SLOP, boost=PROXIMITY_BOOST))
        corrected = None
        if any(c.corrected for c in found):
            corrected = query
            for c in found:
                if c.corrected:
                    corrected = re.sub(rf"(?i)\b{re.escape(c.word)}\b", c.corrected, corrected)
        return _Plan(wq.Or(parts), found, corrected, concept_terms, concept_stems, concept_weights,
                     intent_kinds(corrected or query), asks_definition(corrected or query))

    def _concept_weight(self, forms: list[tuple[str, ...]]) -> float:
        """How much a concept says: the highest IDF of a word of its forms; 0 if none is indexed.

        Coverage weighs concepts by this, so matching the rare "imaging" counts
        for more than matching the everywhere "brain", and a word no passage
        contains ("happen") neither helps nor hurts any passage.
        """
        best = 0.0
        for stems in forms:
            if stems and all(s in self._stems for s in stems):
                best = max(best, max(self._searcher.idf("text", s) for s in stems))
        return best

    def _concept_query(self, concept: Concept):
        """One concept as a query: the best of its forms counts, not their sum.

        Each form (the word typed, its correction, synonyms, expansions) is
        searched in every public field with the field's BM25F weight; a
        disjunction-max keeps a passage that matches three synonyms from
        outscoring one that matches the word itself. Returns the query, the
        (field, term) pairs it can match, and each distinct form's stems.
        """
        forms = []
        terms: set[tuple[str, bytes]] = set()
        seen: list[tuple[str, ...]] = []  # each form's stems, once
        for i, form in enumerate(concept.all_forms):
            weight = 1.0 if i == 0 else ALTERNATIVE_WEIGHT
            stems = self._tokens("text", form)
            if not stems or tuple(stems) in seen:  # "relaxer", "relaxers": one search
                continue
            seen.append(tuple(stems))
            fields = []
            for fieldname in PUBLIC_FIELDS:
                boost = round(FIELD_BOOSTS[fieldname] * weight, 3)
                if len(stems) == 1:
                    fields.append(wq.Term(fieldname, stems[0], boost=boost))
                else:
                    fields.append(wq.Phrase(fieldname, stems, boost=boost))
                terms.update((fieldname, s.encode("utf-8")) for s in stems)
            forms.append(wq.Or(fields))
        if not forms:
            return wq.NullQuery, terms, seen
        query = forms[0] if len(forms) == 1 else wq.DisjunctionMax(forms, tiebreak=0.1)
        return query, terms, seen

    def _correct(self, found: list[Concept]) -> list[Concept]:
        """Swap in a spelling correction for misspelt words the index has never seen.

        A word the index lacks but English has ("beat", "worn") is kept as
        typed: it is what the user meant, even if no passage says it. Only the
        first ``MAX_CORRECTIONS`` misspellings are looked up, which bounds the
        cost of a pasted page of gibberish.
        """
        out = []
        tries = 0
        for c in found:
            if self._nothing_to_correct(c):
                out.append(c)
                continue
            derived = self._derived_forms(c.word)
            if derived:
                out.append(replace(c, alternatives=c.alternatives + derived))
                continue
            if is_english_word(c.word) or tries >= MAX_CORRECTIONS:
                out.append(c)
                continue
            tries += 1
            corrected = self._spelling(c.word)
            if corrected is None:
                out.append(c)
                continue
            more = tuple(a for a in self._synonyms.get(inflection_key(corrected), ())
                         if a not in c.alternatives)
            out.append(replace(c, corrected=corrected, alternatives=c.alternatives + more))
        return out

    def _nothing_to_correct(self, c: Concept) -> bool:
        """A phrase, a word the index has (or a synonym of it), a number, too short or long."""
        return (" " in c.word or c.word.isdigit()
                or not 4 <= len(c.word) <= MAX_CORRECTED_LENGTH
                or c.word in self._vocabulary
                or all(s in self._stems for s in self._tokens("text", c.word))
                or any(a in self._vocabulary for a in c.alternatives))

    def _spelling(self, word: str) -> Optional[str]:
        """The index word, else the question word, within one or two edits of ``word``.

        Both keep the first letter, which typos rarely change, and which keeps
        the automaton walk of a large vocabulary short.
        """
        maxdist = 1 if len(word) < 6 else 2
        found = [w for w in self._searcher.suggest("words", word, limit=1, maxdist=maxdist,
                                                   prefix=1) if w != word]
        if not found:
            found = [w for w in _query_vocabulary().suggest(word, limit=1, maxdist=maxdist,
                                                            prefix=1) if w != word]
        return found[0] if found else None

    def _derived_forms(self, word: str) -> tuple[str, ...]:
        """Index words made from ``word`` by a short ending ("rhythm" -> "rhythmic").

        The stemmer keeps such derived words apart; when the index lacks the
        word typed, they are the nearest thing it has to say about it.
        """
        if len(word) < 4:
            return ()
        found = []
        for i in range(bisect_left(self._sorted_vocabulary, word), len(self._sorted_vocabulary)):
            candidate = self._sorted_vocabulary[i]
            if not candidate.startswith(word):
                break
            if len(candidate) - len(word) <= MAX_DERIVED_SUFFIX:
                found.append(candidate)
        return tuple(found)

    def _fuzzy_plan(self, plan: _Plan) -> _Plan:
        """Last resort when nothing matched: each misspelt word within one or two edits.

        An ordinary English word is no misspelling: "beat" is not searched as
        "best" or "heat", as ``_correct`` keeps it too. Only the first
        ``MAX_CORRECTIONS`` words are tried, as in ``_correct``.
        """
        words = [w for c in plan.concepts for w in c.word.split()
                 if MAX_CORRECTED_LENGTH >= len(w) >= 4 and not is_english_word(w)]
        words = words[:MAX_CORRECTIONS]
        parts = [wq.FuzzyTerm("words", w, maxdist=1 if len(w) < 7 else 2, prefixlength=1)
                 for w in words]
        return replace(plan, query=self._bounded(wq.Or(parts), _Budget()) if parts else wq.NullQuery)

    def _parse_syntax(self, query: str):
        """Parse query-language input over the public fields; None if it yields nothing."""
        schema = Schema(**{name: self._schema[name] for name in PUBLIC_FIELDS})
        parser = MultifieldParser(list(PUBLIC_FIELDS), schema, fieldboosts=FIELD_BOOSTS,
                                  group=OrGroup)
        parser.add_plugin(FuzzyTermPlugin())  # "clonsu~2"; the distance is clamped below
        # Parsing costs time in proportion to the text: only the words that
        # can be kept (see ``_bounded``) are parsed.
        words = query.split()
        if len(words) > MAX_QUERY_TERMS:
            query = " ".join(words[:MAX_QUERY_TERMS])
        try:
            parsed = parser.parse(query)
        except Exception:  # malformed syntax: search its words instead
            return None
        parsed = _lift_nots(self._bounded(parsed, _Budget())).normalize()
        if parsed is wq.NullQuery or not list(parsed.iter_all_terms()):
            return None
        return parsed

    def _bounded(self, q, budget: "_Budget"):
        """``q`` with every expansion bounded, before any matcher is built.

        A pattern without a letter or digit (``*``, ``***``, ``?*``,
        ``title:*``) would match every passage and says nothing: it is
        dropped. Wildcard, prefix, range and fuzzy terms expand to at most
        ``MAX_EXPANSIONS`` index terms; past the first ``MAX_QUERY_TERMS``
        terms, or ``MAX_TERMS`` expanded ones, the rest of the query is
        dropped; boosts are clamped to ``MAX_BOOST``.
        """
        if isinstance(q, wq.Every):
            return wq.NullQuery
        if hasattr(q, "boost"):
            q.boost = _clamped_boost(q.boost)
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
            reader = self._searcher.reader()
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

    # -- running ---------------------------------------------------------------

    def _run(self, q, allow: Optional[set[int]], wanted: int, deadline: float):
        """The ``wanted`` best BM25F matches of ``q`` among ``allow``, as Whoosh hits.

        Only the top matches are scored and kept: nothing counts every match.
        """
        if q is wq.NullQuery or (allow is not None and not allow):
            return []
        collector = TermsCollector(_Candidates(wanted, allow, deadline))
        self._searcher.search_with_collector(q, collector)
        results = collector.results()
        results.fragmenter = highlight.WholeFragmenter(charlimit=None)
        results.formatter = _Mark()
        return results[:]  # a slice: ``list(results)`` would count every match

    def _factors(self, hit, plan: _Plan) -> dict[str, float]:
        """The re-ranking multipliers for one hit, by name (shown by ``explain``)."""
        factors: dict[str, float] = {}
        total = sum(plan.concept_weights)
        if not plan.concept_terms:
            return factors
        pid = hit["id"]
        if total > 0:
            matched = set(hit.matched_terms()) if hit.results.has_matched_terms() else set()
            covered = sum(w for terms, w in zip(plan.concept_terms, plan.concept_weights)
                          if terms & matched)
            coverage = covered / total
            factors["coverage"] = COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * coverage ** 2
        # About-ness: the passage's heading names a concept, or a sentence opens with one.
        def opens_with_concept(heads: list[tuple[str, ...]]) -> bool:
            return any(stems and head[:len(stems)] == stems
                       for forms in plan.concept_stems for stems in forms for head in heads)

        if opens_with_concept([self._headings.get(pid, ())]):
            factors["heading"] = 1 + HEADING_BOOST
        if opens_with_concept(self._openings.get(pid, [])):
            factors["subject"] = 1 + SUBJECT_BOOST
        if {k.lower() for k in plan.intents} & self._kinds.get(pid, set()):
            factors["intent"] = 1 + INTENT_BOOST
            if pid in self._section_leads:
                factors["section_lead"] = 1 + SECTION_LEAD_BOOST
        if plan.definition:
            passage = self._passages[pid]
            size = self._article_sizes.get(passage.article.id, 1)
            factors["lead"] = 1 + LEAD_BOOST * (1 - passage.position / max(size, 1))
        return factors

    def _rerank(self, found, plan: _Plan, keep_order: bool = False):
        scored = []
        for hit in found:
            score = hit.score or 0.0
            for value in self._factors(hit, plan).values():
                score *= value
            if not math.isfinite(score):  # boosts are clamped; this is a last guard
                score = 0.0
            scored.append((score, hit))
        if not keep_order:
            # Ties go to reading order, so equal passages come back in a stable order.
            scored.sort(key=lambda sh: (-sh[0], sh[1].docnum))
        return scored

    def _hit(self, rank: int, score: float, hit, plan: _Plan, explain: bool) -> Hit:
        passage = self._passages[hit["id"]]
        matched = sorted({(f, t.decode("utf-8", "replace") if isinstance(t, bytes) else t)
                          for f, t in (hit.matched_terms() if hit.results.has_matched_terms() else [])})
        text_matches = any(f == "text" for f, _ in matched)
        marked = hit.highlights("text", text=passage.text, top=1) if text_matches else ""
        explanation = None
        if explain:
            by_field: dict[str, list[str]] = {}
            for f, t in matched:
                by_field.setdefault(f, []).append(t)
            explanation = {
                "parsed_query": str(plan.query),
                "concepts": [{"word": c.word, "corrected": c.corrected,
                              "alternatives": list(c.alternatives)} for c in plan.concepts],
                "matched": by_field,
                "bm25f": round(hit.score or 0.0, 4),
                "factors": {k: round(v, 4) for k, v in self._factors(hit, plan).items()},
                "intents": sorted(plan.intents),
                "score": round(score, 4),
            }
        return Hit(rank=rank, score=score, passage=passage, highlights=marked or passage.text,
                   matched_terms=tuple(t for _, t in matched), explanation=explanation)


@lru_cache(maxsize=1)
def _query_vocabulary() -> ListCorrector:
    """Words a question may use that no passage needs to: synonyms and intent words.

    The second place a misspelt word is looked up, after the index: the
    corrected "permanent" finds no passage, but it still asks for the outlook,
    and a corrected "physiotherapy" brings its synonyms.
    """
    words: set[str] = set()
    for group in load("synonyms")["groups"]:
        words.update(w for phrase in group for w in phrase.lower().split())
    for section in load("sections")["sections"]:
        words.update(w for phrase in section.get("intent", ()) for w in phrase.split())
    return ListCorrector(sorted(w for w in words if len(w) >= 4 and is_english_word(w, 1)))


@dataclass
class _Budget:
    """What is left of one query's allowance of terms, spent as it is expanded."""

    leaves: int = MAX_QUERY_TERMS
    terms: int = MAX_TERMS
    postings: int = MAX_EXPANDED_POSTINGS


def _clamped_boost(boost) -> float:
    """A boost as a finite number in 0 .. ``MAX_BOOST`` (``clonus^1e400`` is inf)."""
    if not isinstance(boost, (int, float)) or math.isnan(boost):
        return 1.0
    return min(max(float(boost), 0.0), MAX_BOOST)


def _text(term) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def _lift_nots(q):
    """Make "a b NOT c" mean (a OR b) AND NOT c, as people read it.

    With an OR default group Whoosh would otherwise read it as a OR b OR
    (NOT c), which matches nearly every passage.
    """
    if isinstance(q, wq.Or):
        nots = [c for c in q.subqueries if isinstance(c, wq.Not)]
        rest = [_lift_nots(c) for c in q.subqueries if not isinstance(c, wq.Not)]
        if nots and rest:
            kept = rest[0] if len(rest) == 1 else wq.Or(rest)
            dropped = nots[0].query if len(nots) == 1 else wq.Or([n.query for n in nots])
            return wq.AndNot(kept, dropped)
    if not q.is_leaf():
        return q.apply(_lift_nots)
    return q


# ---------------------------------------------------------------------------
# Module-level entry points
# ---------------------------------------------------------------------------

def open_index(path: Optional[str | Path] = None) -> Index:
    """Open a built index, or with no path the bundled clonus article's index.

    The bundled index is built on first use into the user cache
    (``$XDG_CACHE_HOME/clonus_index``; ``CLONUS_INDEX_DIR`` overrides) and
    rebuilt when the bundled article changes or the index is damaged.
    """
    if path is None:
        return Index(bundled_index())
    return Index(read_index(path))


def build_index(sources: Iterable[str | Path] | str | Path, path: str | Path,
                progress=None, with_bundled: bool = False) -> Index:
    """Ingest ``sources`` (files and folders of .txt/.html) and build an index at ``path``.

    The build is atomic: readers of ``path`` see the old index until the new
    one is complete. With ``with_bundled``, the bundled clonus article is
    indexed too, after ``sources``. Returns the opened new index.
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    sources = list(sources)
    with contextlib.ExitStack() as stack:
        relative_to = None
        if with_bundled:
            corpus_dir = stack.enter_context(bundled_sources())
            sources.append(corpus_dir)
            relative_to = corpus_dir.parent.parent
        corpus = ingest(sources, progress=progress, relative_to=relative_to)
        write_index(corpus, path, sources_digest=sources_hash(sources))
    return open_index(path)


_default: Optional[Index] = None
_default_lock = threading.Lock()


def search(query: str, limit: int = DEFAULT_LIMIT, section: Optional[str] = None,
           explain: bool = False, offset: int = 0, article: Optional[str] = None) -> Results:
    """Search the bundled default index: ``clonus_index.search("what causes clonus")``.

    Takes the arguments of :meth:`Index.search`. Each call first picks up a
    rebuilt bundled index (see :meth:`Index.refresh`).
    """
    global _default
    with _default_lock:
        if _default is None:
            _default = open_index()
        else:
            try:
                _default.refresh()
            except IndexStateError:  # gone or damaged: open (and rebuild) it again
                _default = open_index()
        index = _default
    return index.search(query, limit=limit, section=section, explain=explain, offset=offset,
                        article=article)
