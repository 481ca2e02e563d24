import os
import subprocess
import sys

import pytest

from clonus_index import IngestError
from clonus_index.reading import iter_sources, read_document, read_html, read_text


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
