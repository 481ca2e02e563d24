"""Shared fixtures: the seed article, the fixture articles, small indexes in tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SEED = ROOT / "source" / "mnt-what-is-clonus.txt"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Keep the bundled index out of the user's cache, for every test and subprocess."""
    cache = tmp_path_factory.mktemp("cache")
    old = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "CLONUS_INDEX_DIR")}
    os.environ["XDG_CACHE_HOME"] = str(cache)
    os.environ.pop("CLONUS_INDEX_DIR", None)
    yield cache
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def seed_path() -> Path:
    return SEED


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def seed_corpus():
    from clonus_index import ingest
    return ingest([SEED])


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory):
    """An index of the seed article in a temporary folder, shared read-only."""
    from clonus_index import build_index
    return build_index([SEED], tmp_path_factory.mktemp("seed") / "index")


@pytest.fixture(scope="session")
def default_index():
    """The bundled default index (built into the session's private cache)."""
    from clonus_index import open_index
    return open_index()


@pytest.fixture
def foreign_paths(tmp_path) -> tuple[Path, Path]:
    """A folder holding something else, and a plain file: two paths that are no index."""
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"\xff\xd8")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not an index")
    return folder, a_file


def passage_with(corpus_or_passages, phrase: str):
    """The one passage whose text contains ``phrase``."""
    passages = getattr(corpus_or_passages, "passages", corpus_or_passages)
    found = [p for p in passages if phrase in p.text]
    assert len(found) == 1, f"{phrase!r} is in {len(found)} passages"
    return found[0]


class Server:
    """A real ``clonus-index serve`` process on a free loopback port."""

    def __init__(self, *args: str, env: dict | None = None, ready_timeout: float = 60.0):
        import subprocess
        import sys
        import time

        import httpx
        from readme_examples import free_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-c", "from clonus_index.cli import main; main()",
                   "serve", "--port", str(self.port), "--no-access-log", *args]
        self.process = subprocess.Popen(command, env={**os.environ, **(env or {})},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        text=True)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not answer /health in time")

    def stop(self) -> str:
        """Stop the server (SIGINT, as Ctrl-C) and return what it printed on stderr."""
        import signal
        import subprocess
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)  # a hang guard: it usually stops at once
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.stderr.read()


#: Root writes to read-only folders anyway; without the DAC override
#: capabilities it is held to the permission bits like anyone else.
_NO_OVERRIDE = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                "--ambient-caps=-dac_override,-dac_read_search",
                "--bounding-set=-dac_override,-dac_read_search", "--"]


def _override_dropped(folder: Path) -> bool:
    """True when a process under ``_NO_OVERRIDE`` cannot write into read-only ``folder``.

    setpriv exits 0 even where it may not drop capabilities (a container
    without CAP_SETPCAP), so the tests try it before they trust it.
    """
    probe = [*_NO_OVERRIDE, sys.executable, "-c", f"open({str(folder / 'probe')!r}, 'w')"]
    return subprocess.run(probe, capture_output=True).returncode != 0


def cli_held_to_permissions(args, env) -> subprocess.CompletedProcess:
    """Run the CLI in a process that read-only permissions really stop."""
    prefix = []
    if os.geteuid() == 0:
        probe_dir = Path(env.get("TMPDIR", "/tmp")) / f"clonus-ro-probe-{os.getpid()}"
        probe_dir.mkdir(mode=0o555, exist_ok=True)
        try:
            usable = shutil.which("setpriv") is not None and _override_dropped(probe_dir)
        finally:
            shutil.rmtree(probe_dir, ignore_errors=True)
        if not usable:
            pytest.skip("running as root, and setpriv cannot take away its write override here")
        prefix = _NO_OVERRIDE
    code = "import sys; from clonus_index.cli import main; sys.argv[0] = 'clonus-index'; main()"
    return subprocess.run([*prefix, sys.executable, "-c", code, *args], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def large_index(tmp_path_factory):
    """20,000 synthetic passages (200 articles, six sections each), shared read-only."""
    from clonus_index import open_index
    from corpora import build_synthetic
    return open_index(build_synthetic(tmp_path_factory.mktemp("large") / "index", 200, 100))


# ---------------------------------------------------------------------------
# Real OpenSearch nodes (tests/opensearch_node.py): started once per session,
# skipped with the reason only where Java or Maven is missing.
# ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def opensearch_classpath() -> str:
    import opensearch_node
    reason = opensearch_node.missing_tools()
    if reason:
        pytest.skip(reason)
    return opensearch_node.build_launcher()


@pytest.fixture(scope="session")
def opensearch_url(opensearch_classpath, tmp_path_factory):
    """The URL of a real single-node OpenSearch cluster, green, for the whole session."""
    import opensearch_node
    node = opensearch_node.single_node(opensearch_classpath, tmp_path_factory.mktemp("opensearch"))
    yield node.url
    node.stop()


@pytest.fixture
def opensearch_pair(opensearch_classpath, tmp_path):
    """Two nodes (two JVMs) in one cluster, green; stopped after the test."""
    import opensearch_node
    nodes = opensearch_node.two_nodes(opensearch_classpath, tmp_path / "pair")
    yield nodes
    for node in nodes:
        node.stop()


def pytest_terminal_summary(terminalreporter):
    import opensearch_node
    if opensearch_node.TIMINGS:
        terminalreporter.write_sep("-", "OpenSearch test cluster")
        for what, seconds in opensearch_node.TIMINGS.items():
            terminalreporter.write_line(f"{what}: {seconds:.1f}")
