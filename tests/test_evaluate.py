import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from clonus_index.cli import cli
from clonus_index.evaluate import Question, QuestionFileError, answers, evaluate, load_questions

DATA = Path(__file__).resolve().parent / "data"
QUESTIONS = DATA / "questions.jsonl"
#: Messages as people write them to a chat assistant, with context about
#: themselves, written without seeing the ranker (then used to find gaps).
CHAT_QUESTIONS = DATA / "chat_questions.jsonl"

#: Quality floors per question set, pinned at what the ranker reaches. Raise
#: them when ranking improves; never lower them to make a change pass.
FLOORS = {
    QUESTIONS: {"success@1": 0.965, "success@3": 0.98, "mrr@10": 0.977},
    CHAT_QUESTIONS: {"success@1": 0.94, "success@3": 0.96, "mrr@10": 0.955},
}


def test_answers_compares_normalised_text():
    assert answers("Sedatives and anti-spasticity medications can", ["anti spasticity medications"])
    assert answers("in the doctor's office", ["doctor s office"])
    assert not answers("a stroke starves", ["strokes"])  # whole words, not substrings


def test_metrics_on_a_known_ranking():
    questions = [Question("a", ("alpha",), "k1"), Question("b", ("beta",), "k1"),
                 Question("c", ("gamma",), "k2"), Question("d", ("delta",), "k2")]
    rankings = {"a": ["alpha x"], "b": ["x", "y", "beta"], "c": ["x"] * 10 + ["gamma"], "d": []}
    report = evaluate(lambda q: rankings[q], questions)
    assert report.overall == {"questions": 4, "success@1": 0.25, "success@3": 0.5,
                              "mrr@10": pytest.approx((1 + 1 / 3) / 4)}
    assert report.by_kind["k1"]["success@3"] == 1.0 and report.by_kind["k2"]["success@3"] == 0.0
    assert [(o.question.q, o.rank) for o in report.misses] == [("b", 3), ("c", None), ("d", None)]


@pytest.mark.parametrize("content, message", [
    ("not json\n", ":1: not a JSON object"),
    ('{"q": "x"}\n', ':1: expected {"q": "question", "keys": ["phrase", ...]}'),
    ('{"q": "x", "keys": ["a"]}\n{"q": "", "keys": ["a"]}\n', ":2: expected"),
    ("\n\n", "no questions in it"),
])
def test_malformed_question_files_name_the_line(tmp_path, content, message):
    path = tmp_path / "q.jsonl"
    path.write_text(content)
    with pytest.raises(QuestionFileError, match=message.replace("[", r"\[").replace("{", r"\{")):
        load_questions(path)


def test_the_question_set_is_large_and_its_keys_are_real(seed_corpus):
    questions = load_questions(QUESTIONS)
    assert len(questions) >= 80
    kinds = {q.kind for q in questions}
    assert {"natural", "paraphrase", "synonym", "abbreviation", "british", "typo", "phrase",
            "keyword", "section"} <= kinds
    blind = DATA.parent.parent / "benchmarks" / "blind_questions.jsonl"
    for q in questions + load_questions(CHAT_QUESTIONS) + load_questions(blind):
        # every question of every set is answerable by some passage
        assert any(answers(p.text, q.keys) for p in seed_corpus.passages), q.q
    dev = [json.loads(line)["q"] for line in (DATA.parent.parent.parent / "shared" / "eval" /
                                              "dev_questions.jsonl").read_text().splitlines()
           if line.strip()] if (DATA.parent.parent.parent / "shared").exists() else []
    assert [q.q for q in questions[:len(dev)]] == dev


@pytest.mark.parametrize("path", list(FLOORS), ids=lambda p: p.name)
def test_quality_floors(default_index, path):
    report = evaluate(lambda q: [h.passage.text for h in default_index.search(q, limit=10)],
                      load_questions(path))
    misses = [(o.question.q, o.rank) for o in report.misses]
    for metric, floor in FLOORS[path].items():
        assert report.overall[metric] >= floor, (metric, report.overall, misses)


def test_eval_command(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["eval", str(QUESTIONS)])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["kind", "n", "s@1", "s@3", "MRR@10"]
    assert any(line.startswith("all ") for line in lines)
    data = json.loads(runner.invoke(cli, ["eval", str(QUESTIONS), "--json"]).stdout)
    assert set(data) == {"overall", "by_kind", "misses"}
    assert data["overall"]["questions"] == len(load_questions(QUESTIONS))
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    result = runner.invoke(cli, ["eval", str(bad)])
    assert result.exit_code == 1 and result.stderr.strip() == f"Error: {bad}:1: not a JSON object"


def _table_kinds(stdout):
    table = stdout.split("\n\n")[0].splitlines()[1:]
    return [line.split()[0] for line in table]


def test_eval_prints_the_all_row_once(tmp_path):
    """Without kinds there is no per-kind breakdown: one "all" row, not two."""
    runner = CliRunner()
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"q": "what causes clonus", "keys": ["clonus"]}\n'
                     '{"q": "botox", "keys": ["botox"]}\n')
    result = runner.invoke(cli, ["eval", str(plain)])
    assert result.exit_code == 0, result.stderr
    assert _table_kinds(result.stdout) == ["all"]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"q": "what causes clonus", "keys": ["clonus"]}\n'
                     '{"q": "botox", "keys": ["botox"], "kind": "keyword"}\n')
    result = runner.invoke(cli, ["eval", str(mixed)])
    assert result.exit_code == 0, result.stderr
    kinds = _table_kinds(result.stdout)
    assert kinds.count("all") == 1 and kinds[-1] == "all" and "keyword" in kinds
