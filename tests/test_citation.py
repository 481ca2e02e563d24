import datetime as dt

import pytest

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


# The cite blocks of the fixtures and of real pages in the two MLA generations:
# MLA 7 ("Site. Organisation, 8 Jun. 2018. Web. 6 Sep. 2019. <url>") and MLA 8+
# ("Container, Publisher, 2 Feb. 2020, url. Accessed 3 Mar. 2021.").

def test_comma_style_mla_keeps_the_date_out_of_the_publisher(data_dir):
    meta = parse_cite_block(read_document(data_dir / "migraine.txt").cite)
    assert meta["publisher"] == "Health Facts Daily"
    assert meta["published"] == dt.date(2020, 2, 2)
    assert meta["author"] == "Jane Doe"
    assert meta["title"] == "Migraine: what you need to know"
    assert "organization" not in meta and "accessed" not in meta


@pytest.mark.parametrize("mla, expected", [
    # MLA 8 without the medium.
    ('Doe, Jane. "Migraine: what you need to know." Health Facts Daily, 2 Feb. 2020.',
     {"publisher": "Health Facts Daily", "published": dt.date(2020, 2, 2)}),
    # MLA 8 with a publisher, a URL and an access date.
    ('Doe, Jane. "Migraine: what you need to know." Health Facts Daily, Health Facts Inc., '
     '2 February 2020, https://example.org/migraine. Accessed 3 Mar. 2021.',
     {"publisher": "Health Facts Daily", "organization": "Health Facts Inc.",
      "published": dt.date(2020, 2, 2), "accessed": dt.date(2021, 3, 3),
      "url": "https://example.org/migraine"}),
    # MLA 8 with a month-first date and a URL written without its scheme.
    ('Doe, Jane. "Migraine: what you need to know." Health Facts Daily, Feb. 2, 2020, '
     'www.example.org/migraine.',
     {"publisher": "Health Facts Daily", "published": dt.date(2020, 2, 2),
      "url": "www.example.org/migraine"}),
    # MLA 7 with an organisation, the medium, an access date and an angle-bracketed URL.
    ('Doe, Jane. "Migraine: what you need to know." Health Facts Daily. Health Facts Inc., '
     '2 Feb. 2020. Web. 6 Sep. 2021. <https://example.org/migraine>',
     {"publisher": "Health Facts Daily", "organization": "Health Facts Inc.",
      "published": dt.date(2020, 2, 2), "accessed": dt.date(2021, 9, 6),
      "url": "https://example.org/migraine"}),
    # MLA 7 with no publication date: the one date is when the page was read.
    ('Doe, Jane. "Migraine: what you need to know." U.S. Health News. Health Facts Inc., '
     'n.d. Web. 6 Sep. 2021.',
     {"publisher": "U.S. Health News", "organization": "Health Facts Inc.",
      "accessed": dt.date(2021, 9, 6)}),
])
def test_mla_variants(mla, expected):
    meta = parse_cite_block("Please use one of the following formats to cite this article: MLA " + mla)
    assert meta == {"author": "Jane Doe", "title": "Migraine: what you need to know", **expected}


def test_mla_container_edge_cases():
    from clonus_index.citation import _mla_source
    # An impossible date still ends the site; it is no date of the article.
    assert _mla_source(" Medical News Today, 31 Feb. 2020.") == {"publisher": "Medical News Today"}
    # An abbreviation's dot is no break between site and organisation.
    assert _mla_source(" Dr. Smith's Blog. Jan. 5, 2020.") == {
        "publisher": "Dr. Smith's Blog", "published": dt.date(2020, 1, 5)}


KIM_MLA = ('MLA: Kim, Rachel. "Gout in the U.S.: Symptoms and relief." Health Site, 4 Nov. 2022, '
           'https://example.org/gout. Accessed 5 Dec. 2022.')
KIM_APA = ("APA: Kim, R. (2022, November 4). Gout in the U.S.: Symptoms and relief. Health Site. "
           "https://example.org/gout")
KIM = {"author": "Rachel Kim", "title": "Gout in the U.S.: Symptoms and relief",
       "publisher": "Health Site", "published": dt.date(2022, 11, 4),
       "accessed": dt.date(2022, 12, 5), "url": "https://example.org/gout"}


@pytest.mark.parametrize("block, expected", [
    (f"{KIM_MLA} {KIM_APA}", KIM),
    (f"{KIM_MLA}   {KIM_APA.replace('APA:', 'APA -')}", KIM),
    (KIM_APA, {**{k: v for k, v in KIM.items() if k != "accessed"}, "author": "R. Kim"}),
    (KIM_APA.replace("APA:", "APA") + " Retrieved from the site.",
     {**{k: v for k, v in KIM.items() if k != "accessed"}, "author": "R. Kim"}),
    ('APA Lee, A. (2021, March 3). "Is gout hereditary?" Joint News.',
     {"author": "A. Lee", "title": "Is gout hereditary?", "publisher": "Joint News",
      "published": dt.date(2021, 3, 3)}),
])
def test_cite_blocks_with_colons_and_apa_alone(block, expected):
    assert parse_cite_block("Cite this article: " + block) == expected


def test_an_article_with_only_an_apa_block_takes_its_title_and_author(tmp_path):
    from clonus_index import ingest
    path = tmp_path / "kim.txt"
    path.write_text("Symptoms   Gout causes sudden pain in a joint.  It often starts at night.  "
                    "Cite this article:  " + KIM_APA)
    (article,) = ingest([path]).articles
    assert (article.title, article.author) == ("Gout in the U.S.: Symptoms and relief", "R. Kim")
    assert article.citation("apa") == (
        "Kim, R. (2022, November 4). Gout in the U.S.: Symptoms and relief. Health Site. "
        "https://example.org/gout")
    # An initial keeps its one dot in MLA too ("Kim, R.", never "Kim, R..").
    assert article.citation("mla") == (
        "Kim, R. \u201cGout in the U.S.: Symptoms and relief.\u201d Health Site, 4 Nov. 2022, "
        "https://example.org/gout.")


def test_an_article_without_a_cite_block_is_cited_with_what_is_known(tmp_path):
    from clonus_index import build_index
    from click.testing import CliRunner
    from clonus_index.cli import cli
    path = tmp_path / "one.txt"
    path.write_text("Gout causes sudden pain in a joint.  It often starts at night.")
    index = build_index([path], tmp_path / "ix")
    article = index.search("gout")[0].passage.article
    assert article.citation("apa") == "one."
    assert article.citation("mla") == "\u201cone.\u201d"
    shown = CliRunner().invoke(cli, ["search", "gout", "--index", str(tmp_path / "ix")]).stdout
    assert "   Source: one.\n" in shown and "n.d." not in shown


def test_a_reference_with_a_volume_range_keeps_the_journal_out_of_the_title():
    ref = parse_reference(
        "Rompe, J. D., Furia, J., & Maffulli, N. (2008). Shock wave therapy as a treatment of "
        "nonunions, avascular necrosis, and delayed healing of stress fractures. British Medical "
        "Bulletin, 81\u201382, 183\u2013208.")
    assert ref.title == ("Shock wave therapy as a treatment of nonunions, avascular necrosis, "
                         "and delayed healing of stress fractures")
    assert (ref.journal, ref.volume, ref.issue, ref.pages) == (
        "British Medical Bulletin", "81\u201382", None, "183\u2013208")
