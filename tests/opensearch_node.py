"""Real OpenSearch nodes for the tests: build the Maven launcher, start, stop, kill.

The launcher (``tests/opensearch/``) is an embedded OpenSearch node started
from Maven artifacts; each node is a JVM of its own, bound to loopback on
free ports, with its data and logs in a temporary folder. Only the test
suite and ``.ci/run`` use this module.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

LAUNCHER = Path(__file__).resolve().parent / "opensearch"
CLASSPATH = LAUNCHER / "target" / "classpath.txt"
CLASSES = LAUNCHER / "target" / "classes"
MAIN_CLASS = "org.clonusindex.testnode.TestNode"
#: Heap of one test node: the test corpora are small, and two nodes share 2 cores.
HEAP = "512m"
START_SECONDS = 180.0
#: How long each stage took in this process (printed in pytest's summary).
TIMINGS: dict[str, float] = {}


class SetupError(RuntimeError):
    """The launcher could not be built or a node could not start: say why, with its output."""


def missing_tools() -> Optional[str]:
    """Why OpenSearch tests cannot run here, or None when Java and Maven are there."""
    missing = [tool for tool in ("java", "mvn") if not _tool(tool)]
    if missing:
        return (f"OpenSearch tests need Java 17+ and Maven; {' and '.join(missing)} not found "
                "on PATH (install a JDK and Maven to run them)")
    return None


def _tool(name: str) -> Optional[str]:
    home = os.environ.get("JAVA_HOME")
    if name == "java" and home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which(name)


def build_launcher() -> str:
    """Compile the launcher if its sources changed; return the JVM classpath.

    Maven runs offline first (everything cached in ~/.m2), and online only
    when something is missing.
    """
    sources = [LAUNCHER / "pom.xml", *sorted((LAUNCHER / "src").rglob("*.java"))]
    newest = max(p.stat().st_mtime for p in sources)
    if not (CLASSPATH.exists() and CLASSPATH.stat().st_mtime >= newest and CLASSES.exists()):
        started = time.monotonic()
        base = [_tool("mvn"), "-q", "-B", "-f", str(LAUNCHER / "pom.xml"), "compile"]
        done = subprocess.run(base[:3] + ["-o"] + base[3:], capture_output=True, text=True)
        if done.returncode != 0:
            done = subprocess.run(base, capture_output=True, text=True)
        if done.returncode != 0:
            raise SetupError("building the OpenSearch test launcher failed:\n"
                             + (done.stdout + done.stderr)[-4000:])
        CLASSPATH.touch()
        TIMINGS["launcher build (s)"] = time.monotonic() - started
    return f"{CLASSES}{os.pathsep}{CLASSPATH.read_text().strip()}"


@dataclass
class Node:
    """One running node: its process, HTTP URL and transport address."""

    name: str
    home: Path
    process: subprocess.Popen
    url: str = ""
    transport: str = ""
    stdout: list[str] = field(default_factory=list)
    _stderr: list[str] = field(default_factory=list)
    _readers: list[threading.Thread] = field(default_factory=list)

    def _read(self, stream, into: list[str]) -> None:
        reader = threading.Thread(target=lambda: into.extend(stream), daemon=True)
        reader.start()
        self._readers.append(reader)

    def kill(self) -> None:
        """kill -9: the node dies without a word to the cluster."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop cleanly (closing stdin ends the launcher, which says STOPPED), or kill it after 30 s."""
        if self.process.poll() is not None:
            return
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        for reader in self._readers:  # what it said last is read to the end
            reader.join(timeout=10)

    def log_tail(self) -> str:
        path = self.home / "logs" / f"{self.name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return (text[-3000:] + "\n" + "".join(self._stderr)[-2000:]).strip()


def start_node(classpath: str, home: Path, name: str, cluster: str,
               settings: dict[str, str]) -> Node:
    """Start one node and wait for its READY line (HTTP and transport bound, joined)."""
    home.mkdir(parents=True, exist_ok=True)
    args = [_tool("java"), f"-Xms{HEAP}", f"-Xmx{HEAP}", "-XX:+UseSerialGC",
            "-Djava.awt.headless=true", "-cp", classpath, MAIN_CLASS, str(home),
            f"-Ecluster.name={cluster}", f"-Enode.name={name}",
            *(f"-E{k}={v}" for k, v in settings.items())]
    process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    node = Node(name, home, process)
    node._read(process.stderr, node._stderr)
    node._read(process.stdout, node.stdout)
    deadline = time.monotonic() + START_SECONDS
    while not (ready := [line for line in node.stdout if line.startswith("READY ")]):
        if process.poll() is not None or time.monotonic() > deadline:
            node.kill()
            raise SetupError(f"OpenSearch node {name} did not start:\n{node.log_tail()}")
        time.sleep(0.05)
    fields = dict(part.split("=", 1) for part in ready[0].split()[1:])
    node.url = f"http://{fields['http']}"
    node.transport = fields["transport"]
    return node


def health(url: str, status: str = "green", nodes: int = 1, timeout: float = 60) -> dict:
    """Wait until the cluster behind ``url`` has ``nodes`` nodes and ``status``; return health."""
    query = f"wait_for_status={status}&wait_for_nodes={nodes}&timeout={int(timeout)}s"
    with urllib.request.urlopen(f"{url}/_cluster/health?{query}", timeout=timeout + 10) as r:
        data = json.loads(r.read())
    if data.get("timed_out"):
        raise SetupError(f"cluster at {url} did not reach {status} with {nodes} nodes: {data}")
    return data


def single_node(classpath: str, home: Path) -> Node:
    """A one-node cluster, green and ready for requests."""
    started = time.monotonic()
    node = start_node(classpath, home, "node-1", f"clonus-test-{os.getpid()}",
                      {"discovery.type": "single-node"})
    try:
        health(node.url)
    except Exception:
        node.stop()
        raise
    TIMINGS["single node: JVM start to green (s)"] = time.monotonic() - started
    return node


def two_nodes(classpath: str, home: Path) -> list[Node]:
    """Two JVMs in one cluster: node-1 (cluster manager and data), node-2 (data only).

    node-2 is not cluster-manager-eligible, so the cluster keeps its manager
    when node-2 dies; node-2 is the one a failover test kills.
    """
    started = time.monotonic()
    cluster = f"clonus-pair-{os.getpid()}"
    first = start_node(classpath, home / "node-1", "node-1", cluster,
                       {"cluster.initial_cluster_manager_nodes": "node-1",
                        "node.roles": "cluster_manager,data"})
    nodes = [first]
    try:
        nodes.append(start_node(classpath, home / "node-2", "node-2", cluster,
                                {"discovery.seed_hosts": first.transport, "node.roles": "data"}))
        health(first.url, nodes=2)
    except Exception:
        for node in nodes:
            node.stop()
        raise
    TIMINGS["two nodes: JVM start to green (s)"] = time.monotonic() - started
    return nodes
