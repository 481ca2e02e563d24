"""The README and the command's help stay true to the code."""

import json
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from clonus_index.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


def _setup_commands():
    section = README.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_gives_exactly_two_setup_commands():
    install_and_search, install_and_test = _setup_commands()
    assert "pip install ." in install_and_search and "clonus-index search" in install_and_search
    assert 'pip install ".[test,semantic]"' in install_and_test and "pytest" in install_and_test


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert _setup_commands()[1] in ci.splitlines()


def test_every_command_is_documented_with_an_example():
    for name, command in cli.commands.items():
        assert f"clonus-index {name}" in README, name
        help_text = CliRunner().invoke(cli, [name, "--help"]).stdout
        assert "Example" in help_text and f"clonus-index {name}" in help_text, name
        assert command.help and command.help.strip().split("\n")[0].endswith("."), name


def test_readme_examples_show_real_ids_and_sections(default_index):
    p = default_index.get("what-is-clonus-p20")
    assert p.subsection == "Botox injections" and "what-is-clonus-p20" in README
    for section in default_index.sections():
        assert section in README


def test_readme_search_example_is_real_output():
    block = README.split("```console\n$ clonus-index search ", 1)[1].split("```", 1)[0]
    command, shown = block.split("\n", 1)
    args = ["search", *shlex.split(command)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0

    def headers(text):
        return [line for line in text.splitlines() if re.match(r"\d+\. ", line)]

    assert headers(shown) and headers(shown) == headers(result.stdout)


def test_readme_json_example_is_real_output():
    block = README.split("`clonus-index search QUERY --json` prints one document:", 1)[1]
    query = re.search(r'"query": "([^"]+)"', block).group(1)
    score = float(re.search(r'"score": ([0-9.]+)', block).group(1))
    passage_id = re.search(r'"id": "([^"]+)"', block).group(1)
    data = json.loads(CliRunner().invoke(cli, ["search", query, "--json"]).stdout)
    assert (data["hits"][0]["score"], data["hits"][0]["passage"]["id"]) == (score, passage_id)


def test_readme_says_how_to_run_the_examples_after_the_setup():
    section = README.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    assert ". .venv/bin/activate" in section and ".venv/bin/clonus-index" in section


def test_readme_own_articles_example_works_as_written(tmp_path, monkeypatch, data_dir):
    block = README.split("**Your own articles.**", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line.split("#", 1)[0]) for line in block.strip().splitlines()]
    (tmp_path / "my-articles").mkdir()
    (tmp_path / "my-articles" / "gout.html").write_bytes((data_dir / "gout.html").read_bytes())
    monkeypatch.chdir(tmp_path)
    for command in commands:
        assert command[0] == "clonus-index"
        result = CliRunner().invoke(cli, command[1:])
        assert result.exit_code == 0, (command, result.output)
    assert "gout" in result.stdout.lower()
