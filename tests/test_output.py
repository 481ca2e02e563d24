"""Output: nothing from an article, a file name or a query can drive the reader's terminal."""

import json
import re

import pytest
from click.testing import CliRunner
from hypothesis import given, strategies as st

from clonus_index import build_index
from clonus_index.cli import cli
from clonus_index.output import dumps, printable

#: A file name that is an attack: colour, a window-title OSC, and a right-to-left override.
HOSTILE_NAME = "esc\x1b[31mRED\x1b[0m\x1b]0;pwned\x07\u202etxt.exe"
#: What a terminal must never receive from data: ESC, C0 but tab/newline, DEL, C1, bidi controls.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
ARTICLE = ("Gout is a form of arthritis that causes sudden pain in a joint.  Doctors diagnose "
           "gout with a blood test.  Treatment for gout includes rest and medication.")


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory):
    """An index of one article whose title and source come from a hostile file name."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / f"{HOSTILE_NAME}.txt").write_text(
        ARTICLE + "  Pain \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ and \x9b2J clear \u202e.")
    path = folder / "ix"
    build_index([folder], path)
    return path


@pytest.mark.parametrize("args", [
    ["search", "gout"], ["search", "gout", "--explain"], ["info"], ["passages"],
    ["show", "esc-31mred-0m-0-pwned-txt-p0"],
])
@pytest.mark.parametrize("color", [False, True])
def test_text_output_carries_no_control_characters(hostile_index, args, color):
    result = CliRunner().invoke(cli, [*args, "--index", str(hostile_index)], color=color)
    assert result.exit_code == 0, result.output
    shown = result.stdout + result.stderr
    if color:  # our own colours are the only escape sequences, and only SGR ones
        shown = re.sub(r"\x1b\[[0-9;]*m", "", shown)
    assert not RAW.search(shown), repr(shown)


def test_the_hostile_name_still_reads_as_itself(hostile_index):
    result = CliRunner().invoke(cli, ["info", "--index", str(hostile_index)])
    assert "escREDtxt.exe" in result.stdout


def test_json_output_is_the_exact_data_with_every_control_escaped(hostile_index):
    result = CliRunner().invoke(cli, ["search", "gout", "--json", "--index", str(hostile_index)])
    assert not RAW.search(result.stdout)
    source = json.loads(result.stdout)["hits"][0]["article"]["source"]
    assert source.endswith(f"/{HOSTILE_NAME}.txt")  # exact, escapes and all


def test_errors_naming_a_hostile_file_carry_no_control_characters(tmp_path):
    bad = tmp_path / f"{HOSTILE_NAME}.txt"
    bad.write_bytes(b"")
    result = CliRunner().invoke(cli, ["ingest", str(bad), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1
    assert not RAW.search(result.stderr) and "escREDtxt.exe.txt: the file is empty" in result.stderr


def test_a_hostile_query_is_not_echoed_raw():
    result = CliRunner().invoke(cli, ["search", "zzqx\x1b]0;pwned\x07 \u202e"])
    assert not RAW.search(result.stdout + result.stderr)


@pytest.mark.parametrize("text, shown", [
    ("a\x1b[31mb\x1b[0mc", "abc"),
    ("a\x1b]0;title\x07b", "ab"),
    ("a\x1b]8;;http://x\x1b\\b", "ab"),
    ("a\x9b2Jb", "ab"),
    ("a\x1b(Bb", "ab"),
    ("a\rb\x00c\x7fd\x85e", "abcde"),
    ("left \u202eright\u202c \u2066iso\u2069", "left right iso"),
    ("one\ntwo\tthree", "one two three"),
    ("latin\udce9name", "latin\\xe9name"),
])
def test_printable(text, shown):
    assert printable(text) == shown


def test_printable_keeps_lines_when_asked():
    assert printable("one\n\ntwo\tthree\x1b[2J", lines=True) == "one\n\ntwo\tthree"


@given(st.text())
def test_json_output_parses_to_the_same_data_and_has_no_raw_controls(text):
    out = dumps({"t": text})
    assert json.loads(out) == {"t": text}
    assert not RAW.search(out) and not re.search("[\u2028\u2029\ud800-\udfff]", out)


@given(st.text())
def test_printable_never_lets_a_control_through(text):
    assert not RAW.search(printable(text)) and not RAW.search(printable(text, lines=True))
