"""The README's examples of the serving extras, run as a reader would run them.

The tests run them (``test_docs.py``), and so does ``.ci/run``, in a
virtualenv holding the core install and one extra only:
``python tests/readme_examples.py serve``. Each example's output must match
the output the README shows under it ("..." ends a shown prefix).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## Serving other apps"
EXAMPLES = {"serve": "HTTP service", "mcp": "MCP server", "langchain": "LangChain",
            "llamaindex": "LlamaIndex", "app": "An app that answers with its source"}
#: Which extra each example needs (``.ci/run`` installs only that one).
NEEDS = {"serve": "serve", "mcp": "mcp", "langchain": "langchain", "llamaindex": "llamaindex",
         "app": "langchain"}


def subsection(title: str) -> str:
    text = README.read_text("utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    return text.split(f"### {title}\n", 1)[1].split("\n### ", 1)[0]


def blocks(title: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", subsection(title), flags=re.S)


def matches(shown: str, actual: str) -> bool:
    shown, actual = shown.rstrip(), actual.rstrip()
    return actual.startswith(shown[:-3]) if shown.endswith("...") else actual == shown


def _exec(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "__main__"})
    return out.getvalue()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from clonus_index.cli import main; main()", *args]


def run(name: str) -> str:
    """Run the README's Python example for ``name``; return what it printed."""
    code = blocks(EXAMPLES[name], "python")[0]
    if name == "serve":
        return _run_with_server(code)
    if name == "mcp":
        return _run_with_command_on_path(code)
    return _exec(code)


def _run_with_server(code: str) -> str:
    """The shell block's ``clonus-index serve --port 8000``, on a free port instead."""
    assert "clonus-index serve --port 8000" in blocks(EXAMPLES["serve"], "sh")[0]
    port = free_port()
    server = subprocess.Popen(_cli("serve", "--port", str(port), "--no-access-log"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("clonus-index serve did not start") from None
                time.sleep(0.1)
        return _exec(code.replace("127.0.0.1:8000", f"127.0.0.1:{port}"))
    finally:
        server.terminate()
        server.wait(timeout=30)


def _run_with_command_on_path(code: str) -> str:
    """The example launches ``clonus-index`` by name: from this Python's scripts folder, with
    a home of its own (the SDK passes the server only HOME, PATH and a few more)."""
    config = json.loads(blocks(EXAMPLES["mcp"], "json")[0])["mcpServers"]["clonus-index"]
    assert f'command="{config["command"]}", args={json.dumps(config["args"])}' in code
    saved = {k: os.environ.get(k) for k in ("PATH", "HOME")}
    with tempfile.TemporaryDirectory() as home:
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{saved['PATH'] or ''}"
        os.environ["HOME"] = home
        try:
            return _exec(code)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def check(name: str) -> tuple[bool, str, str]:
    """(does the output match the README's, the output shown, the output printed)."""
    shown = blocks(EXAMPLES[name], "text")[0]
    actual = run(name)
    return matches(shown, actual), shown, actual


def main(names: list[str]) -> int:
    failed = 0
    for name in names:
        ok, shown, actual = check(name)
        print(f"README example {EXAMPLES[name]!r}: {'ok' if ok else 'DIFFERS'}")
        if not ok:
            failed += 1
            print(f"--- shown\n{shown}--- printed\n{actual}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(EXAMPLES)))
