import json
import os
import subprocess
import sys

import pytest

from clonus_index import IngestError, ingest
from clonus_index.reading import iter_sources, read_document, read_html, read_text

from conftest import DATA


def test_seed_body_references_and_cite_block_are_told_apart(seed_path):
    doc = read_document(seed_path)
    body = " ".join(b.text for b in doc.blocks)
    assert body.startswith("Clonus spasms often occur in a rhythmic pattern.")
    assert body.endswith("working closely with a doctor and physical therapist.")
    # what must not be in the body
    for unwanted in ("Please use one of the following formats", "Medicinski glasnik", "MLA",
                     "&amp;", "Otero-Romero", "If no author information"):
        assert unwanted not in body
    assert len(doc.references) == 6  # as listed, duplicate included
    assert doc.cite.startswith("Please use one of the following formats to cite this article")


def test_seed_surviving_headings_and_list_items(seed_path):
    doc = read_document(seed_path)
    headings = [b.text for b in doc.blocks if b.kind == "heading"]
    assert headings == ["Physical therapy", "Botox injections", "Surgery", "Home remedies"]
    items = [b.text.split(" ")[0:2] for b in doc.blocks if b.item]
    assert [" ".join(i) for i in items] == ["Multiple sclerosis", "A stroke", "Infections, such",
                                            "Major injuries,", "Serotonin syndrome", "A brain"]


def test_flattened_text_rules_are_general():
    text = ("Intro sentence here.  Causes include:   Diabetes  is a condition that harms nerves.   "
            "Injury , such as a fall , can too.  Treatment   Rest   Resting helps most people.  "
            "Refs follow.\n Smith, J. (2020, May 4). A paper. Journal of Things, 3 (2), 1–9.  "
            "Please use one of the following formats to cite this article: MLA X.")
    doc = read_text(text)
    assert [(b.kind, b.item) for b in doc.blocks] == [
        ("text", False), ("text", False), ("text", True), ("text", True),
        ("heading", False), ("heading", False), ("text", False), ("text", False)]
    assert doc.blocks[3].text == "Injury, such as a fall, can too."
    assert doc.references == ("Smith, J. (2020, May 4). A paper. Journal of Things, 3 (2), 1–9.",)


def test_html_page_furniture_is_dropped():
    html = """<html><head><title>T</title><meta name="author" content="Ann Lee">
    <meta property="article:published_time" content="2020-02-03T10:00:00Z">
    <link rel="canonical" href="https://example.org/a"><script>var x = "no";</script>
    <style>p { color: red }</style></head><body>
    <header><nav><a href="/">Home page link</a></nav></header>
    <article><h1>Gout &amp; you</h1><p>Gout is a kind of arthritis.</p>
    <div class="ad-slot">Advertisement buy now</div>
    <aside class="related-links">Related coverage elsewhere</aside>
    <h2>Symptoms</h2><p>Pain comes&nbsp;suddenly:</p><ul><li>Red joints</li><li>Heat</li></ul>
    <h3>At night</h3><p>Attacks start at night.</p>
    <h2>References</h2><ol><li>Lee, A. (2019). Gout. Rheum, 1, 2–3.</li></ol>
    </article><form>Subscribe to our newsletter</form><footer>Copyright 2020</footer></body></html>"""
    doc = read_html(html)
    texts = [(b.kind, b.level, b.item, b.text) for b in doc.blocks]
    assert texts == [
        ("text", None, False, "Gout is a kind of arthritis."),
        ("heading", 2, False, "Symptoms"),
        ("text", None, False, "Pain comes suddenly:"),
        ("text", None, True, "Red joints"), ("text", None, True, "Heat"),
        ("heading", 3, False, "At night"),
        ("text", None, False, "Attacks start at night."),
    ]
    assert doc.references == ("Lee, A. (2019). Gout. Rheum, 1, 2–3.",)
    assert doc.meta == {"title": "Gout & you", "author": "Ann Lee",
                        "published": "2020-02-03T10:00:00Z", "url": "https://example.org/a"}


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"   \n\t ", "the file is empty"),
    (b"caf\xe9 au lait. " * 3, "not UTF-8 text"),
])
def test_bad_text_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(IngestError, match=rf"bad\.txt: {message}"):
        read_document(path)


def test_html_without_article_text(tmp_path):
    path = tmp_path / "menu.html"
    path.write_text("<html><body><nav>Home About</nav><script>x()</script></body></html>")
    with pytest.raises(IngestError, match=r"menu\.html: no article text"):
        read_document(path)


def test_unknown_suffix_and_missing_paths(tmp_path):
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    with pytest.raises(IngestError, match="not an article file"):
        list(iter_sources([tmp_path / "notes.pdf"]))
    with pytest.raises(IngestError, match="no such file"):
        list(iter_sources([tmp_path / "missing"]))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IngestError, match="no .txt or .html article files"):
        list(iter_sources([empty]))


def test_folder_order_is_stable(tmp_path):
    for name in ("b.txt", "a.html", "sub/c.txt", "sub/a.txt", "skip.pdf"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    names = [p.relative_to(tmp_path).as_posix() for p in iter_sources([tmp_path])]
    assert names == ["a.html", "b.txt", "sub/a.txt", "sub/c.txt"]


# --------------------------------------------------------------------------
# HTML bylines and a whole news-site page (tests/data/gout.html)
# --------------------------------------------------------------------------

GOUT_MUST_CONTAIN = [
    # every paragraph (a sentence of each) and every list item
    "Gout is a common and painful form of inflammatory arthritis.",
    "Between flares, many people have no symptoms at all.",
    "A gout flare usually starts at night.",
    "Common signs of a flare include:",
    "intense pain in one joint, often the big toe",
    "redness and shiny skin over the joint",
    "swelling and warmth around the joint",
    "stiffness that makes the joint hard to move",
    "spread to other joints, such as the ankles, knees, wrists and fingers.",
    "a condition called hyperuricemia.",
    "Foods and drinks that raise uric acid levels include:",
    "red meat and organ meats, such as liver",
    "some seafood, including anchovies, sardines and shellfish",
    "beer and spirits",
    "drinks sweetened with fructose",
    "Men are more likely than women to develop gout, and the risk rises with age.",
    "Some medicines, including diuretics and low-dose aspirin, can raise uric acid levels as well.",
    "The most reliable test is to draw fluid from the joint with a needle",
    "An ultrasound or a dual-energy CT scan can show crystal deposits",
    "Options include nonsteroidal anti-inflammatory drugs, colchicine and corticosteroids.",
    "applying an ice pack for 20 minutes at a time can also help.",
    "such as allopurinol or febuxostat.",
    "Lifestyle changes that can help include:",
    "losing weight gradually if overweight",
    "drinking plenty of water",
    "limiting alcohol, especially beer",
    "most people can prevent flares and avoid lasting damage to their joints.",
]

GOUT_MUST_NOT_CONTAIN = [
    # byline, reviewer and dates
    "Maria Okafor", "By ", "April 11, 2023", "September 2, 2023", "Updated",
    "Medically reviewed", "Ken Ito",
    # cookie banner, site header, navigation, breadcrumb, share tools, figure
    "We use cookies", "Health Conditions", "Tools and Quizzes", "Home", "Share on",
    "Email this article", "Photo: Stock Images",
    # ads, related coverage (with another article's byline), newsletter, feedback
    "Advertisement", "Sponsored", "Comfort shoes", "joint support supplement",
    "Related coverage", "Pseudogout", "Tom Reyes", "a week of meals", "Bunions",
    "newsletter", "Sign up", "Was this article helpful",
    # references, last-reviewed line and footer
    "Choi, H. K.", "The Lancet", "cdc.gov", "Last medically reviewed",
    "About Us", "Privacy Policy", "All rights reserved", "loadComments", "dataLayer",
]


@pytest.fixture(scope="module")
def gout(data_dir):
    from clonus_index import ingest
    return ingest([data_dir / "gout.html"])


def test_news_page_metadata_comes_from_head_and_byline(gout):
    (article,) = gout.articles
    # The head has no author name (article:author is a Facebook URL) and no
    # date, so both come from the byline: the author link's text, not its
    # href, and the first <time>, not the "Updated" one.
    assert article.title == "Gout: Symptoms, causes, and treatment"
    assert article.author == "Maria Okafor"
    assert article.published.isoformat() == "2023-04-11"
    assert article.url == "https://www.healthfactsdaily.example/articles/gout-symptoms-causes-treatment"
    assert article.publisher == "Health Facts Daily"
    assert article.organization is None and article.accessed is None


def test_news_page_passages_keep_sections_and_subsections(gout):
    placed = []
    for p in gout.passages:
        if (p.section, p.subsection) not in placed:
            placed.append((p.section, p.subsection))
    assert placed == [
        ("Overview", None), ("Symptoms", None),
        ("Causes and risk factors", None), ("Causes and risk factors", "Diet"),
        ("Causes and risk factors", "Other risk factors"),
        ("Diagnosis", None),
        ("Treatment", "During a flare"), ("Treatment", "Preventing future flares"),
        ("Outlook", None),
    ]
    assert gout.passages[0].text.startswith("Gout is a common and painful form")


def test_news_page_text_is_all_in_passages_and_furniture_in_none(gout):
    texts = [p.text for p in gout.passages]
    for wanted in GOUT_MUST_CONTAIN:
        assert any(wanted in t for t in texts), wanted
    for unwanted in GOUT_MUST_NOT_CONTAIN:
        assert not any(unwanted in t for t in texts), unwanted
    assert all(p.text == p.article.text[p.start:p.end] for p in gout.passages)


def test_news_page_references_are_parsed(gout):
    refs = gout.articles[0].references
    assert len(refs) == 4  # the "Last medically reviewed" line under them is not one
    choi, dalbeth, fitzgerald, cdc = refs
    assert choi.authors[0] == "Choi, H. K." and len(choi.authors) == 5
    assert (choi.year, choi.journal, choi.volume, choi.issue, choi.pages) == \
        (2004, "New England Journal of Medicine", "350", "11", "1093–1103")
    assert (dalbeth.title, dalbeth.journal, dalbeth.year) == ("Gout", "The Lancet", 2021)
    assert fitzgerald.journal == "Arthritis Care & Research" and fitzgerald.authors[-1] == "Neogi, T."
    assert (cdc.year, cdc.month, cdc.day) == (2022, 7, 11)


@pytest.mark.parametrize("byline, author, published", [
    # The reported page: an author link inside a classed byline.
    ('<div class="byline">By <a rel="author" href="/a/lee">Sam Lee</a> · '
     '<time datetime="2022-05-17">May 17, 2022</time></div>', "Sam Lee", "2022-05-17"),
    # A classed byline with no markup inside: name and date from its words.
    ('<p class="byline">By Sam Lee · May 17, 2022</p>', "Sam Lee", "May 17, 2022"),
    # No class: an author link and a <time> among a few byline words.
    ('<p>By <a rel="author" href="https://x.example/a/lee">Sam Lee</a> | '
     '<time datetime="2022-05-17">May 17</time></p>', "Sam Lee", "2022-05-17"),
    # Loose inline content in a div, the author in a classed span.
    ('<div>Written by <span class="author-name">Sam Lee</span> · '
     '<time datetime="2022-05-17">May 17</time></div>', "Sam Lee", "2022-05-17"),
    # schema.org markup: itemprop=name inside itemprop=author; modified date skipped.
    ('<div class="article-meta"><span itemprop="author" itemscope><a href="/a/lee">'
     '<span itemprop="name">Sam Lee</span></a></span> '
     '<time itemprop="dateModified" datetime="2023-01-09">Jan 9</time> '
     '<time itemprop="datePublished" datetime="2022-05-17">May 17</time></div>',
     "Sam Lee", "2022-05-17"),
    # Two authors, an update and a reading time in the words.
    ('<span class="byline">By Sam Lee and Jo Park · Updated 3 June 2023 · '
     'Published 17 May 2022 · 5 min read</span>', "Sam Lee and Jo Park", "17 May 2022"),
])
def test_html_byline_gives_metadata_and_no_text(byline, author, published):
    html = (f'<html><head><link rel="author" href="/humans.txt"></head><body><article>'
            f'<h1>Heel pain</h1>{byline}<p>Plantar fasciitis is a common cause of heel pain.</p>'
            f'</article></body></html>')
    doc = read_html(html)
    assert [b.text for b in doc.blocks] == ["Plantar fasciitis is a common cause of heel pain."]
    assert doc.meta["author"] == author
    assert doc.meta["published"] == published


def test_html_author_is_never_a_url_and_meta_tags_win():
    html = """<html><head><meta property="article:author" content="https://facebook.com/hfd">
    <meta name="author" content="Ann Lee"><meta property="article:published_time" content="2020-02-03">
    </head><body><article><h1>T</h1><p class="byline">By <a rel="author" href="/a/b">Bo Kim</a>
    <time datetime="2019-01-01">1 Jan 2019</time></p><p>Gout is a kind of arthritis.</p>
    </article></body></html>"""
    assert read_html(html).meta["author"] == "Ann Lee"
    assert read_html(html).meta["published"] == "2020-02-03"
    only_links = """<html><head><meta property="article:author" content="https://facebook.com/hfd">
    <link rel="author" href="https://x.example/about"></head><body><article><h1>T</h1>
    <p>Gout is a kind of arthritis.</p><aside><a rel="author" href="/o">Other Writer</a></aside>
    </article></body></html>"""
    assert "author" not in read_html(only_links).meta


def test_html_sentences_with_dates_are_not_bylines():
    html = """<article><h1>T</h1>
    <p>The outbreak began on <time datetime="2020-03-03">3 March 2020</time> in the city.</p>
    <p>By 2030, half of adults may have raised uric acid.</p>
    <p>Reviewed by <a rel="author" href="/x">Dr Ito</a>, the study found that flares fell by half
    in people who took allopurinol every day for a year.</p></article>"""
    assert len(read_html(html).blocks) == 3


def test_html_lists_inside_paragraphs_and_unclosed_items_are_read_once():
    doc = read_html("<article><h1>T</h1><p>Triggers include:<ul><li>Stress.</li>"
                    "<li>Missed meals.</li></ul></p><ul><li>Heat<li>Cold<li>Noise</ul></article>")
    assert [(b.text, b.item) for b in doc.blocks] == [
        ("Triggers include:", False), ("Stress.", True), ("Missed meals.", True),
        ("Heat", True), ("Cold", True), ("Noise", True)]


def test_a_heading_after_a_short_list_stays_a_heading():
    doc = read_text("Intro here.  Common triggers include:   Stress at work   Missing meals   "
                    "Bright lights  Treatment options  Doctors treat migraine with rest.")
    assert [(b.kind, b.text) for b in doc.blocks][-2:] == [
        ("heading", "Treatment options"), ("text", "Doctors treat migraine with rest.")]


def test_a_sentence_with_a_time_that_is_no_date_is_not_a_byline():
    doc = read_html('<article><h1>T</h1><p>By <time datetime="P6W">week six</time>, most '
                    'people walk again.</p><p class="byline">By Sam Lee <time>recently</time></p>'
                    '<p>Published <time datetime="2022-05-17">May 17, 2022</time></p></article>')
    assert [b.text for b in doc.blocks] == ["By week six, most people walk again."]
    assert doc.meta["published"] == "2022-05-17"  # the byline's "recently" is no date


_HTML_EXPECTED = json.loads((DATA / "html_expected.json").read_text("utf-8"))


@pytest.mark.parametrize("name", [k for k in _HTML_EXPECTED if not k.startswith("_")])
def test_pages_written_without_seeing_the_reader(name):
    want = _HTML_EXPECTED[name]
    corpus = ingest([DATA / name])
    article = corpus.articles[0]
    assert (article.title, article.author, article.publisher, article.url,
            article.published.isoformat(), len(article.references)) == (
        want["title"], want["author"], want["publisher"], want["url"], want["published"],
        want["references"])
    sections = list(dict.fromkeys(p.section for p in corpus.passages))
    assert [s for s in sections if s != "Overview"] == want["sections"]  # the lead is Overview
    assert {(p.section, p.subsection) for p in corpus.passages if p.subsection} == \
        {tuple(s) for s in want["subsections"]}
    text = " ".join(" ".join(p.text.split()) for p in corpus.passages)
    for sentence in want["must_contain"]:
        assert " ".join(sentence.split()) in text, sentence
    for furniture in want["must_not_contain"]:
        assert furniture not in text, furniture


from hypothesis import given, settings, strategies as st

_WORD = st.text(alphabet="abcdefghij", min_size=2, max_size=7)


@st.composite
def _plain_article(draw):
    paragraphs = draw(st.lists(st.lists(_WORD, min_size=6, max_size=20), min_size=2, max_size=6))
    items = draw(st.lists(st.lists(_WORD, min_size=1, max_size=5), max_size=4))
    body = ["Title line of the article"]
    texts = []
    for words in paragraphs:
        text = "Para " + " ".join(words) + "."
        texts.append(text)
        body.append(text)
    if items:
        body.append("Things to note:")
        body.append("\n".join("- " + " ".join(w) for w in items))
        texts += [" ".join(w) for w in items]
    return "\n\n".join(body), texts


@settings(max_examples=60, deadline=None)
@given(_plain_article())
def test_plain_text_articles_lose_no_paragraph_or_item(article):
    text, texts = article
    doc = read_text(text)
    assert doc.meta["title"] == "Title line of the article"
    blocks = [b.text for b in doc.blocks if b.kind == "text"]
    for t in texts:
        assert t in blocks
    assert [b.text for b in doc.blocks if b.item] == [t for t in texts if not t.startswith("Para ")]


def test_the_plain_text_forms_the_readme_shows_are_read_as_it_says():
    from clonus_index.pipeline import ingest_document

    doc = read_text("Gout: causes and treatment\nBy Sam Lee, MD · May 17, 2022\n\n"
                    "Gout is a kind of arthritis.\n\nWhat causes gout?\n\n## Diet\n\n"
                    "Foods that can trigger it include:\n- red meat\n* seafood\n1. beer\n\n"
                    "References\n\nLee, S. (2020). Gout today. Journal of Joints, 1(2), 3-4.\n")
    assert doc.meta == {"title": "Gout: causes and treatment", "author": "Sam Lee",
                        "published": "May 17, 2022"}
    assert [(b.kind, b.text, b.level, b.item) for b in doc.blocks] == [
        ("text", "Gout is a kind of arthritis.", None, False),
        ("heading", "What causes gout?", 2, False),
        ("heading", "Diet", 2, False),
        ("text", "Foods that can trigger it include:", None, False),
        ("text", "red meat", None, True), ("text", "seafood", None, True),
        ("text", "beer", None, True)]
    assert doc.references == ("Lee, S. (2020). Gout today. Journal of Joints, 1(2), 3-4.",)
    _, passages = ingest_document(doc)
    assert [p.section for p in passages][0] == "Overview"
    assert "red meat\n\nseafood\n\nbeer" in passages[-1].text


def test_flattened_references_by_organisations_are_peeled_off_with_the_rest():
    from clonus_index.reading import read_flattened
    text = ("Anaemia means a low level of haemoglobin in the blood.  Iron tablets treat most "
            "cases.    World Health Organization. (2023). Anaemia fact sheet. "
            "https://www.who.int/anaemia  National Institute for Health and Care Excellence. "
            "(2021).  Anaemia - iron deficiency . https://cks.nice.org.uk/anaemia  "
            "Smith, J. (2019). Iron in the diet.  Journal of Food , 3(2), 1-9.")
    doc = read_flattened(text)
    assert [b.text for b in doc.blocks] == [
        "Anaemia means a low level of haemoglobin in the blood.", "Iron tablets treat most cases."]
    assert len(doc.references) == 3 and doc.references[0].startswith("World Health Organization")


def test_a_plain_text_question_heading_is_a_section_and_a_short_name_a_subsection():
    from clonus_index.reading import read_plain
    doc = read_plain("Lumbar puncture\n\nA lumbar puncture takes fluid from the spine.\n\n"
                     "Why might I need one?\n\nIt can show an infection such as meningitis.\n\n"
                     "Children\n\nChildren may be given a sedative first.\n\n"
                     "Will it hurt?\n\nA local anaesthetic numbs the skin first.\n")
    # A short name's level is left to sections, which make it a subsection.
    assert [(b.text, b.level) for b in doc.blocks if b.kind == "heading"] == [
        ("Why might I need one?", 2), ("Children", None), ("Will it hurt?", 2)]
    from clonus_index.sections import place_blocks
    placed = [p for p in place_blocks(doc.blocks, "Lumbar puncture") if p is not None]
    assert [(p.section, p.subsection) for p in placed] == [
        ("Overview", None), ("Why might I need one?", None), ("Why might I need one?", "Children"),
        ("Will it hurt?", None)]


def test_a_plain_text_heading_naming_the_subject_opens_a_section_its_words_do_not_name():
    from clonus_index.reading import read_plain
    from clonus_index.sections import place_blocks
    # "Getting rid of ..." names no section, but names the subject as section headings do.
    doc = read_plain("Head lice\n\nHead lice are tiny insects that live in hair.\n\n"
                     "Signs of head lice\n\nAn itchy scalp is the most common sign.\n\n"
                     "Getting rid of head lice\n\nWet combing with a fine-toothed comb treats most "
                     "cases. Medicated lotions and sprays from a pharmacy can also be used.\n\n"
                     "Lotions and sprays\n\nApply the treatment to dry hair and repeat after a week.\n")
    placed = [(b.text, p) for b, p in zip(doc.blocks, place_blocks(doc.blocks, "Head lice")) if p]
    assert [(p.section, p.kind, p.subsection) for _, p in placed] == [
        ("Overview", "Overview", None), ("Signs of head lice", "Symptoms", None),
        ("Getting rid of head lice", "Treatment", None),
        ("Getting rid of head lice", "Treatment", "Lotions and sprays")]


def test_a_plain_text_heading_naming_a_kind_of_the_subject_stays_a_subsection():
    from clonus_index.reading import read_plain
    from clonus_index.sections import place_blocks
    doc = read_plain("Migraine\n\nA migraine is a bad headache felt as throbbing pain.\n\n"
                     "Types of migraine\n\nThere are several types of migraine.\n\n"
                     "Vestibular migraine\n\nIt causes vertigo and dizziness, often with nausea.\n\n"
                     "Chronic migraine\n\nHeadaches on 15 or more days a month for 3 months.\n")
    placed = [p for p in place_blocks(doc.blocks, "Migraine") if p]
    assert [(p.kind, p.subsection) for p in placed] == [
        ("Overview", None), ("Types", None), ("Types", "Vestibular migraine"),
        ("Types", "Chronic migraine")]


_LEAFLET_BODY = ("A gastroscopy is a test to look inside your food pipe and stomach. It takes about "
                 "ten minutes. You should not eat for six hours before the test.")


@pytest.mark.parametrize("form", ["flattened", "html", "plain"])
def test_leaflet_codes_review_dates_and_contact_boxes_never_reach_a_passage(tmp_path, form):
    from clonus_index import ingest
    if form == "flattened":
        text = (" Patient information for patients  Reference: GAS-207 (version 1)  " + _LEAFLET_BODY
                + "  Contact us  Gastroenterology Unit, Level 3, Riverside Infirmary: 01632 870 221 "
                "(Monday to Friday, 9am to 4pm)  Leaflet code: GAS-207 (version 1) Date published: "
                "May 2024 Review date: May 2027   Page last reviewed: 1 May 2024   Next review due: "
                "1 May 2027 ")
        path = tmp_path / "gastroscopy.txt"
    elif form == "html":
        text = ("<html><body><article><h1>Gastroscopy</h1><p>Upper GI Unit \u2013 Information for "
                f"patients</p><p>{_LEAFLET_BODY}</p><table><tr><td>Leaflet code:</td><td>GAS-207 "
                "(version 1)</td></tr><tr><td>Published:</td><td>May 2024</td></tr></table>"
                "<p>Page last reviewed: 1 May 2024<br>Next review due: 1 May 2027</p>"
                "<div class='page-feedback'><p>Can you answer a quick question about your visit?</p>"
                "</div></article></body></html>")
        path = tmp_path / "gastroscopy.html"
    else:
        text = ("Gastroscopy\n\nUpper GI Unit, Riverside Infirmary \u2014 Review date: May 2027\n\n"
                f"{_LEAFLET_BODY}\n\nRiverside Infirmary NHS Trust Leaflet code: GAS-207 (version 1), "
                "published May 2024\n\nSwitchboard 01632 870 000\n")
        path = tmp_path / "gastroscopy.txt"
    path.write_text(text, "utf-8")
    passages = ingest([path]).passages
    assert " ".join(p.text for p in passages) == _LEAFLET_BODY


def test_a_callout_inside_the_article_is_text_and_a_sidebar_outside_it_is_not():
    page = ("<html><body><main><article><h1>Impetigo</h1><p>Impetigo is a skin infection.</p>"
            "<div class='care-card' role='complementary'><p>See a GP if:</p><ul><li>the sores "
            "keep spreading</li></ul></div></article></main>"
            "<div role='complementary'><p>Most read this week</p></div></body></html>")
    texts = [b.text for b in read_html(page).blocks if b.kind == "text"]
    assert texts == ["Impetigo is a skin infection.", "See a GP if:", "the sores keep spreading"]


def test_a_sentence_to_the_reader_with_a_telephone_number_is_kept():
    from clonus_index.cleaning import is_dropped
    assert not is_dropped("If you feel unwell, call the ward on 01632 960 552 straight away.")
    assert is_dropped("Day Surgery Unit, Level 2: 01632 960 418 (Monday to Friday, 8am to 6pm)")
    # A reference's DOI is a long run of digits, not a telephone number.
    assert not is_dropped("Smith, J. (2014). A guideline. https://doi.org/10.1177/0194599814545325")


def test_a_short_heading_over_lower_case_items_keeps_them_apart():
    # Flattened "Do   wear a hat   drink water  Don't   ..." lists: the heading
    # is followed by items, not by a sentence.
    text = (" Heat exhaustion can be treated at home.  Do   move to a cool place   drink plenty "
            "of water   loosen tight clothing  Don't   do not drink alcohol   do not take a hot "
            "shower  Most people feel better within 30 minutes. ")
    doc = read_text(text)
    assert [(b.kind, b.text, b.item) for b in doc.blocks] == [
        ("text", "Heat exhaustion can be treated at home.", False), ("heading", "Do", False),
        ("text", "move to a cool place", True), ("text", "drink plenty of water", True),
        ("text", "loosen tight clothing", True), ("heading", "Don't", False),
        ("text", "do not drink alcohol", True), ("text", "do not take a hot shower", True),
        ("text", "Most people feel better within 30 minutes.", False)]
    from clonus_index.pipeline import ingest_document
    passages = [p.text for p in ingest_document(read_text(text))[1]]
    assert any("move to a cool place\n" in p for p in passages)
