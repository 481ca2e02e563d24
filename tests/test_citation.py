import datetime as dt

from clonus_index.citation import parse_cite_block, parse_date, parse_reference, parse_references
from clonus_index.reading import read_document


def test_seed_cite_block_gives_article_metadata(seed_path):
    meta = parse_cite_block(read_document(seed_path).cite)
    assert meta == {
        "title": "What is clonus? Everything you need to know",
        "author": "Jon Johnson",
        "publisher": "Medical News Today",
        "organization": "MediLexicon, Intl.",
        "published": dt.date(2018, 6, 8),
        "accessed": dt.date(2019, 9, 6),
        "url": "https://www.medicalnewstoday.com/articles/322067.php",
    }


def test_seed_references_are_structured_and_deduplicated(seed_path):
    refs = parse_references(read_document(seed_path).references)
    assert len(refs) == 5
    boyraz, mcguinness, otero, shulman, volpi = refs
    assert boyraz.authors == ("Boyraz, I.", "Uysal, H.", "Koc, B.", "Sarman, H.")
    assert (boyraz.year, boyraz.month, boyraz.day) == (2015, 2, None)
    assert boyraz.title == "Clonus: Definition, mechanism, treatment [Review]"
    assert (boyraz.journal, boyraz.volume, boyraz.issue, boyraz.pages) == \
        ("Medicinski glasnik (Zenica)", "12", "1", "19–26")
    assert (mcguinness.journal, mcguinness.volume, mcguinness.issue, mcguinness.pages) == \
        ("NeuroRehabilitation", "32", None, "635–647")
    assert mcguinness.authors[-1] == "Caldwell, S. B."
    assert otero.year is None and otero.journal is None
    assert "Hartung, H.-P." in otero.authors and "Soelberg Sørensen, P." in otero.authors
    assert otero.title.startswith("Pharmacological management of spasticity")
    assert (shulman.year, shulman.month, shulman.day) == (2013, 1, 10)
    assert shulman.authors == ("Shulman, C.", "Annetta, V.")
    assert (volpi.title, volpi.journal, volpi.year, volpi.month) == \
        ("Serotonin syndrome", "The Ochsner Journal", 2013, None)
    assert all(r.raw and "&amp;" not in r.raw for r in refs)
    assert len({r.id for r in refs}) == 5


def test_duplicates_compare_after_normalising():
    a = "Lee, A. (2019). Gout. Rheum, 1, 2–3."
    b = "Lee,  A.  (2019).  Gout.   Rheum , 1, 2–3."
    assert len(parse_references([a, b])) == 1


def test_unrecognised_reference_keeps_its_text():
    ref = parse_reference("World Health Organization fact sheet on stroke")
    assert ref.title == ref.raw == "World Health Organization fact sheet on stroke"
    assert ref.year is None and ref.authors == ()


def test_dates_in_the_forms_articles_use():
    assert parse_date("8 Jun. 2018") == dt.date(2018, 6, 8)
    assert parse_date("June 8, 2018") == dt.date(2018, 6, 8)
    assert parse_date("2021-03-15T09:00:00Z") == dt.date(2021, 3, 15)
    assert parse_date("2018, June 8") == dt.date(2018, 6, 8)
    assert parse_date("31 Feb. 2018") is None
    assert parse_date("soon") is None
