import re

from hypothesis import example, given, settings, strategies as st

from clonus_index.pipeline import ingest_document
from clonus_index.reading import read_text
from clonus_index.segment import (_BACK_REFERENCE, CONTINUED_SENTENCES, MAX_SENTENCES, MAX_WORDS,
                                  split_sentences)

from conftest import passage_with


def sentences(text):
    return [text[s:e] for s, e in split_sentences(text)]


def test_abbreviations_and_initials_do_not_end_sentences():
    text = ("Ask Dr. Lee, e.g. about the U.S. trial. MediLexicon, Intl. is the publisher. "
            "Hartung, H.-P. and Thompson, A. J. wrote it. Take vitamin C. Then rest.")
    assert sentences(text) == [
        "Ask Dr. Lee, e.g. about the U.S. trial.",
        "MediLexicon, Intl. is the publisher.",
        "Hartung, H.-P. and Thompson, A. J. wrote it.",
        "Take vitamin C.",
        "Then rest.",
    ]


def test_quotes_questions_and_numbers():
    assert sentences('Is it serious? "Rarely," she said. 3 people recovered!') == [
        "Is it serious?", '"Rarely," she said.', "3 people recovered!"]


def test_seed_passages_respect_the_limits(seed_corpus):
    for p in seed_corpus.passages:
        n = len(sentences(p.text))
        continued = any(_BACK_REFERENCE.match(para) for para in p.text.split("\n\n")[1:])
        assert 1 <= n <= (CONTINUED_SENTENCES if continued else MAX_SENTENCES), p.id
        assert len(p.text.split()) <= MAX_WORDS, p.id


def test_a_paragraph_that_points_back_stays_with_the_one_before(seed_corpus):
    # "This may cause a sustained pulsing" is about the foot test described
    # just before it: a passage starting with it would tell a reader nothing.
    p = passage_with(seed_corpus, "This may cause a sustained pulsing")
    assert p.text.startswith("A physical test may also help doctors identify clonus.")
    assert "Blood tests may also help" not in p.text  # the short one joined the passage before
    for other in seed_corpus.passages:
        assert not _BACK_REFERENCE.match(other.text), other.id


def _body_sentences(article):
    """Every sentence of the article's body text, in order, headings left out."""
    out = []
    for block in article.text.split("\n\n"):
        out.extend(sentences(block))
    return out


def test_every_seed_sentence_is_in_exactly_one_passage_in_order(seed_corpus):
    article = seed_corpus.articles[0]
    headings = {"Physical therapy", "Botox injections", "Surgery", "Home remedies"}
    body = [s for s in _body_sentences(article) if s not in headings]
    from_passages = [s for p in seed_corpus.passages for block in p.text.split("\n\n")
                     for s in sentences(block)]
    assert from_passages == body
    assert len(body) > 50


def test_passages_rebuild_the_raw_body_exactly(seed_path, seed_corpus):
    """Independent of the splitter: the seed's first line, cleaned, is the passages
    joined in order, with only the four surviving headings in between."""
    from clonus_index.cleaning import clean_text
    raw_body = clean_text(seed_path.read_text("utf-8").splitlines()[0])
    for heading in ("Physical therapy", "Botox injections", "Surgery", "Home remedies"):
        raw_body = raw_body.replace(f" {heading} ", " ", 1)
    joined = " ".join(p.text.replace("\n\n", " ") for p in seed_corpus.passages)
    assert joined == raw_body


def test_offsets_point_at_the_passage_text(seed_corpus):
    article = seed_corpus.articles[0]
    positions = [p.position for p in seed_corpus.passages]
    assert positions == list(range(len(positions)))
    last_end = 0
    for p in seed_corpus.passages:
        assert article.text[p.start:p.end] == p.text
        assert p.start >= last_end
        last_end = p.end


def test_list_lead_in_stays_with_its_first_item(seed_corpus):
    p = passage_with(seed_corpus, "Conditions associated with clonus include:")
    assert p.text.startswith("Conditions associated with clonus include:")
    assert "Multiple sclerosis (MS) is an autoimmune disorder" in p.text


def test_lead_ins_without_their_items_never_stand_alone(seed_corpus):
    lead_ins = ["These include the:", "brain cells, including:",
                "Medications that may help with clonus contractions include:",
                "treatments that may help reduce clonus include:"]
    for lead in lead_ins:
        p = passage_with(seed_corpus, lead)
        assert p.text.rstrip() != lead and len(sentences(p.text.replace("\n\n", " "))) >= 2


def test_a_long_paragraph_is_cut_between_sentences():
    para = " ".join(f"Sentence number {i} talks about muscle spasms and the nerves." for i in range(12))
    _, passages = ingest_document(read_text(para + "  Short end."))
    texts = [p.text for p in passages]
    assert len(texts) >= 3
    assert all(len(sentences(t)) <= MAX_SENTENCES for t in texts)
    assert " ".join(texts).replace("\n\n", " ") == para + " Short end."


_word = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd")), min_size=1, max_size=8)
_sentence = st.builds(lambda ws, end: " ".join(ws) + end,
                      st.lists(_word, min_size=1, max_size=30),
                      st.sampled_from([".", "!", "?", ":", "", " e.g.", " Dr."]))
_block_sep = st.sampled_from(["  ", "   ", " ", "\n", "    "])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_sentence, _block_sep), min_size=1, max_size=25))
@example([("0:", "  "), ("0", "  "), ("0.", "  ")])  # a lead-in, then a heading
def test_segmentation_loses_and_duplicates_nothing(parts):
    raw = "".join(s + sep for s, sep in parts)
    doc = read_text(raw)
    if not any(b.kind == "text" for b in doc.blocks):
        return
    article, passages = ingest_document(doc)
    # Every non-space character of the body text is in exactly one passage, in order.
    body = "".join(b.text for b in doc.blocks if b.kind == "text")
    joined = "".join(p.text.replace("\n\n", "") for p in passages)
    assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", body)
    for p in passages:
        assert article.text[p.start:p.end] == p.text
        assert p.text.strip()
