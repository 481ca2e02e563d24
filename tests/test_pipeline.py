import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clonus_index import ClonusIndexError, ingest, write_jsonl
from clonus_index.errors import IngestError
from clonus_index.pipeline import article_id_for, articles_path_for

ROOT = Path(__file__).resolve().parent.parent


def test_seed_article_metadata(seed_corpus):
    (article,) = seed_corpus.articles
    assert article.id == "what-is-clonus"
    assert article.title == "What is clonus? Everything you need to know"
    assert article.author == "Jon Johnson"
    assert article.publisher == "Medical News Today"
    assert article.published.isoformat() == "2018-06-08"
    assert article.url == "https://www.medicalnewstoday.com/articles/322067.php"
    assert len(article.references) == 5
    assert "Please use one of the following" not in article.text
    assert article.citation("apa") == (
        "Johnson, J. (2018, June 8). What is clonus? Everything you need to know. "
        "Medical News Today. https://www.medicalnewstoday.com/articles/322067.php")
    assert article.citation("mla") == (
        "Johnson, Jon. \u201cWhat is clonus? Everything you need to know.\u201d Medical News Today, "
        "MediLexicon, Intl., 8 Jun. 2018, https://www.medicalnewstoday.com/articles/322067.php.")


def test_ids_are_stable_across_runs_and_locations(tmp_path, seed_path, seed_corpus):
    copy = tmp_path / "elsewhere" / "renamed.txt"
    copy.parent.mkdir()
    shutil.copy(seed_path, copy)
    again = ingest([copy])
    assert [p.id for p in again.passages] == [p.id for p in seed_corpus.passages]
    assert [p.to_dict() for p in again.passages] == [p.to_dict() for p in seed_corpus.passages]
    assert len({p.id for p in seed_corpus.passages}) == len(seed_corpus.passages)


def test_article_ids_come_from_titles_and_stay_unique(tmp_path, seed_path):
    assert article_id_for("Tinnitus: causes and treatment") == "tinnitus"
    for name in ("a.txt", "b.txt"):
        shutil.copy(seed_path, tmp_path / name)
    corpus = ingest([tmp_path])
    assert [a.id for a in corpus.articles] == ["what-is-clonus", "what-is-clonus-2"]
    assert corpus.passages[-1].id.startswith("what-is-clonus-2-p")


def test_jsonl_output_round_trips(tmp_path, seed_corpus):
    out = tmp_path / "passages.jsonl"
    passages_path, articles_path = write_jsonl(seed_corpus, out)
    assert articles_path == articles_path_for(out) == tmp_path / "passages.articles.jsonl"
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(records) == len(seed_corpus.passages)
    assert set(records[0]) == {"id", "article_id", "position", "section", "kind", "subsection", "text",
                               "start", "end", "references"}
    (article,) = [json.loads(line) for line in articles_path.read_text("utf-8").splitlines()]
    for r in records:
        assert article["text"][r["start"]:r["end"]] == r["text"]
        assert {ref["id"] for ref in r["references"]} <= {ref["id"] for ref in article["references"]}


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_jsonl_output_follows_the_umask(tmp_path, seed_corpus, umask):
    """Output files get the usual mode, not the private 0600 of a temporary file."""
    old = os.umask(umask)
    try:
        paths = write_jsonl(seed_corpus, tmp_path / "passages.jsonl")
    finally:
        os.umask(old)
    for path in paths:
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path


def test_jsonl_output_refuses_one_file_for_both(tmp_path, seed_corpus):
    out = tmp_path / "out.jsonl"
    for articles in (out, tmp_path / "." / "out.jsonl"):
        with pytest.raises(ClonusIndexError, match="same file") as info:
            write_jsonl(seed_corpus, out, articles)
        assert str(info.value).startswith(f"{out}: ")
    assert list(tmp_path.iterdir()) == []


def test_jsonl_output_into_a_folder_names_the_folder(tmp_path, seed_corpus):
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(ClonusIndexError) as info:
        write_jsonl(seed_corpus, folder)
    assert str(info.value).startswith(f"{folder}: is a folder")
    with pytest.raises(ClonusIndexError, match="is a folder"):
        write_jsonl(seed_corpus, tmp_path / "p.jsonl", folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary files left
    assert list(folder.iterdir()) == []


def _script(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "ingest.py"), *args],
                          capture_output=True, text=True, cwd=cwd)


def test_ingest_script_writes_passages_and_a_summary(tmp_path):
    out = tmp_path / "passages.jsonl"
    run = _script("source/", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1
    assert "1 article(s), 28 passages" in run.stderr
    assert len(out.read_text().splitlines()) == 28


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.txt", "missing.txt: no such file or folder"),
    (lambda d: (d / "latin1.txt").write_bytes(b"Caf\xe9 is good.") and d / "latin1.txt",
     "latin1.txt: not UTF-8 text"),
    (lambda d: (d / "empty.txt").write_bytes(b"") or d / "empty.txt", "empty.txt: the file is empty"),
])
def test_ingest_script_rejects_bad_input_in_one_line(tmp_path, make, message):
    path = make(tmp_path)
    run = _script(str(path), "--out", str(tmp_path / "out.jsonl"))
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("Error: ") and message in line
    assert not (tmp_path / "out.jsonl").exists()


def test_a_pool_of_workers_gives_the_same_corpus_in_the_same_order(tmp_path, monkeypatch):
    from clonus_index.pipeline import POOL_MIN_FILES, worker_count

    seed = (Path(__file__).resolve().parent.parent / "source" / "mnt-what-is-clonus.txt").read_text()
    for i in range(POOL_MIN_FILES + 2):
        # Two titles repeat, so ids must be made unique in source order.
        name = "same" if i % 5 == 0 else f"topic{i}"
        (tmp_path / f"a{i:02d}.txt").write_text(seed.replace("clonus", name), "utf-8")
    monkeypatch.setenv("CLONUS_INDEX_WORKERS", "1")
    one = ingest([tmp_path])
    monkeypatch.setenv("CLONUS_INDEX_WORKERS", "2")
    assert worker_count(POOL_MIN_FILES) == 2 and worker_count(3) == 1
    two = ingest([tmp_path])
    assert [p.to_dict() for p in one.passages] == [p.to_dict() for p in two.passages]
    assert [a.id for a in one.articles] == [a.id for a in two.articles]
    assert len({a.id for a in two.articles}) == len(two.articles)


def test_a_bad_worker_count_says_what_to_set(monkeypatch):
    from clonus_index.pipeline import worker_count

    monkeypatch.setenv("CLONUS_INDEX_WORKERS", "many")
    with pytest.raises(IngestError, match="CLONUS_INDEX_WORKERS='many' is not a number"):
        worker_count(100)
    monkeypatch.delenv("CLONUS_INDEX_WORKERS")
    assert worker_count(1) == 1


def test_jsonl_output_is_all_or_nothing(tmp_path, seed_corpus):
    """When the articles file cannot be written, the passages file is not written either."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    passages = tmp_path / "p.jsonl"
    with pytest.raises(OSError):
        write_jsonl(seed_corpus, passages, blocker / "sub" / "a.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]
    passages.write_text("earlier\n")
    with pytest.raises(OSError):
        write_jsonl(seed_corpus, passages, blocker / "sub" / "a.jsonl")
    assert passages.read_text() == "earlier\n"  # the earlier output stands, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "p.jsonl"]
