"""Sections on articles written blind, by someone who never saw the reader.

Set 1 was measured once, then general causes fixed on it; set 2 was measured
once after that (the held-out figure, in the README), and the library has
changed since; set 3 was measured once after passages got their kinds at
ingestion, sets 4 and 5 once after plain text headings and list lead-ins
were read better; each was then used to fix general causes. The floors pin
what the library reaches today; raise them when sections improve, never
lower them.
"""

import importlib.util
import json
from pathlib import Path

import pytest

from clonus_index import ingest
from clonus_index.errors import IngestError
from clonus_index.reading import MAX_SOURCE_MB, read_document

from conftest import DATA
from work import calls

BLIND = DATA / "blind"
ROOT = Path(__file__).resolve().parent.parent

#: Share of paragraphs whose section kind is right, per set and form.
FLOORS = {
    "set1": {"html": 1.0, "flattened": 0.94, "plain": 1.0},
    "set2": {"html": 0.985, "flattened": 0.85, "plain": 0.93},
    # Measured once, held out (HTML 0.917, flattened 0.514, plain 0.830).
    "set3": {"html": 0.97, "flattened": 0.74, "plain": 0.92},
    # Sets 4 and 5 measured once together, held out (HTML 0.917, flattened
    # 0.691, plain 0.914 over both), then used to fix general causes.
    "set4": {"html": 0.94, "flattened": 0.73, "plain": 0.92},
    "set5": {"html": 0.95, "flattened": 0.65, "plain": 0.92},
}


def _benchmark():
    spec = importlib.util.spec_from_file_location("sections_benchmark", ROOT / "benchmarks" / "sections.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_section_accuracy_on_blind_articles_stays_above_its_floors(name, capsys):
    totals = _benchmark().measure([BLIND / name])
    for form, floor in FLOORS[name].items():
        right, total = totals[form]
        assert total > 100 and right / total >= floor, (form, right, total)


def _articles(form: str):
    for truth in sorted(BLIND.glob("set*/*.truth.jsonl")):
        slug = truth.name[:-len(".truth.jsonl")]
        meta = json.loads((truth.parent / f"{slug}.meta.json").read_text("utf-8"))
        yield slug, meta, truth.parent / f"{slug}{form}"


@pytest.mark.parametrize("slug, meta, path", list(_articles(".txt")))
def test_plain_text_articles_give_their_title_and_never_a_passage_of_it(slug, meta, path):
    corpus = ingest([path])
    article = corpus.articles[0]
    assert article.title == meta["title"]
    if meta.get("author"):
        assert article.author == meta["author"]
    for p in corpus.passages:
        assert p.text.split("\n")[0] != meta["title"]
        # A byline never opens a passage; a sentence may ("By lowering prostaglandin ...").
        assert not p.text.startswith("Page last reviewed")
        if meta.get("author"):
            assert not p.text.startswith(f"By {meta['author']}")


@pytest.mark.parametrize("slug, meta, path", list(_articles(".html")))
def test_no_heading_text_inside_a_passage(slug, meta, path):
    doc = read_document(path)
    headings = {b.text for b in doc.blocks if b.kind == "heading" and len(b.text.split()) >= 2}
    for p in ingest([path]).passages:
        for h in headings:
            assert p.text != h and not p.text.startswith(h + "\n"), (h, p.text[:80])


@pytest.mark.parametrize("slug, meta, path", list(_articles(".flat.txt")))
def test_list_items_keep_a_line_between_them_and_leaflet_furniture_is_dropped(slug, meta, path):
    passages = ingest([path]).passages
    doc = read_document(path)
    items = [b for b in doc.blocks if b.item]
    if len(items) >= 2:
        assert any("\n" in p.text for p in passages)
    for p in passages:
        for furniture in ("Download this leaflet", "Print this page"):
            assert furniture not in p.text


@pytest.mark.parametrize("slug, meta, path", list(_articles(".flat.txt")))
def test_a_definition_opening_is_the_overview(slug, meta, path):
    first = ingest([path]).passages[0]
    rows = [json.loads(line) for line in path.with_name(f"{slug}.truth.jsonl").read_text().splitlines()]
    if rows[0]["section"] == "Overview":
        assert first.section == "Overview"


def test_a_contents_list_of_in_page_links_is_no_passage():
    # Written for no page in particular: the metformin page's "In this article" list.
    corpus = ingest([BLIND / "set1" / "metformin.html"])
    for p in corpus.passages:
        assert not p.text.startswith("Uses\n")
    page = ('<article><h1>Gout</h1><h2>Contents</h2><ul><li><a href="#a">Causes</a></li>'
            '<li><a href="#b">Treatment</a></li></ul><h2 id="a">Causes</h2><p>Uric acid builds up.</p>'
            '<ul><li><a href="/diet">Diet and gout</a></li><li>Alcohol</li></ul></article>')
    from clonus_index.reading import read_html
    texts = [b.text for b in read_html(page).blocks if b.kind == "text"]
    assert texts == ["Uric acid builds up.", "Diet and gout", "Alcohol"]


def test_a_subsection_ends_where_its_section_changes():
    for _, _, path in _articles(".flat.txt"):
        for p in ingest([path]).passages:
            if p.subsection is not None:
                group = [q for q in ingest([path]).passages if q.subsection == p.subsection]
                assert len({q.section for q in group}) == 1
                break


def test_a_source_over_the_size_limit_is_refused_naming_the_limit(tmp_path):
    big = tmp_path / "huge.txt"
    with open(big, "wb") as fh:
        fh.truncate(MAX_SOURCE_MB * 1_000_000 + 1)
    with pytest.raises(IngestError, match=f"{MAX_SOURCE_MB} MB limit per source file"):
        read_document(big)


def _flattened(paragraphs: int) -> str:
    return "  ".join(f"Paragraph {i} says the muscles may jerk when the nerves are damaged."
                     for i in range(paragraphs))


def _items_page(items: int) -> str:
    lis = "".join(f"<li>Item {i} is one more thing a person may notice.</li>" for i in range(items))
    return f"<html><body><article><h1>Items</h1><p>Intro.</p><ul>{lis}</ul></article></body></html>"


@pytest.mark.parametrize("make, suffix, small", [(_flattened, ".txt", 400), (_items_page, ".html", 400)])
def test_ingestion_work_grows_linearly_with_the_input(tmp_path, make, suffix, small):
    def cost(n: int) -> int:
        path = tmp_path / f"a{n}{suffix}"
        path.write_text(make(n), "utf-8")
        return calls(ingest, [path])[1]

    cost(small // 4)  # warm the caches
    base = cost(small)
    # Counted work, not time: eight times the input costs a linear pipeline
    # about eight times the function calls, a quadratic one sixty-four.
    assert cost(small * 8) < 8 * base * 1.5


@pytest.mark.parametrize("slug, meta, path", list(_articles(".flat.txt")))
def test_each_article_gets_the_sections_of_its_kind(slug, meta, path):
    from clonus_index.sections import section_names

    kind = {"test": "procedure"}.get(meta["kind"], meta["kind"])
    sections = {p.section for p in ingest([path]).passages}
    assert sections <= set(section_names(kind)), sections - set(section_names(kind))


@pytest.mark.parametrize("slug, meta, path", list(_articles(".flat.txt")))
def test_list_items_share_the_section_of_their_lead_in(slug, meta, path):
    from clonus_index.pipeline import _metadata
    from clonus_index.sections import place_blocks

    doc = read_document(path)
    placements = place_blocks(doc.blocks, title=_metadata(doc)["title"])
    lead = None
    for block, placement in zip(doc.blocks, placements):
        if placement is None:
            lead = None
        elif block.item and lead is not None:
            assert placement.section == lead, block.text
        elif not block.item:
            lead = placement.section if block.text.endswith(":") else None


def test_dosage_talk_in_a_condition_is_treatment_and_an_early_outlook_is_overview():
    from conftest import passage_with

    iron = ingest([BLIND / "set1" / "iron-deficiency-anaemia.flat.txt"])
    assert passage_with(iron, "Your GP will prescribe iron tablets").section == "Treatment"
    shoulder = ingest([BLIND / "set1" / "frozen-shoulder.flat.txt"])
    # "... gradually improves on its own; recovery can take 1 to 3 years" opens the article.
    assert passage_with(shoulder, "The condition usually develops slowly").section == "Overview"
