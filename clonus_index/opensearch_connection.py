"""Where an OpenSearch index lives: its URL, the client's connection settings, errors.

Beside ``opensearch_store`` (writing) and ``opensearch_backend`` (reading and
searching): ``opensearch://HOST[:PORT]/NAME`` names a cluster and the alias
readers use; credentials and TLS come from the environment. Only the
OpenSearch modules import ``opensearch-py``, and only when such a URL is used.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Any, Iterator, Optional
from urllib.parse import urlsplit

from .errors import ClonusIndexError, IndexDamagedError, IndexUnavailableError

__all__ = ["OpenSearchTarget", "is_opensearch_url", "parse_url", "client_for", "reaching",
           "SCHEME", "DEFAULT_PORT", "POOL_SIZE", "ENV_USER", "ENV_PASSWORD", "ENV_TLS",
           "ENV_CA_CERTS"]

SCHEME = "opensearch"
DEFAULT_PORT = 9200
#: HTTP connections one opened index keeps to the cluster (threads searching at once).
POOL_SIZE = 32
#: Environment settings for a cluster that is not on this machine.
ENV_USER = "CLONUS_OPENSEARCH_USER"
ENV_PASSWORD = "CLONUS_OPENSEARCH_PASSWORD"
ENV_TLS = "CLONUS_OPENSEARCH_TLS"
ENV_CA_CERTS = "CLONUS_OPENSEARCH_CA_CERTS"
# OpenSearch index names: lower case, none of \ / * ? " < > | space , # :
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")



@dataclass(frozen=True)
class OpenSearchTarget:
    """A parsed ``opensearch://host:port/NAME``: the cluster and the alias readers use."""

    host: str
    port: int
    name: str

    @property
    def url(self) -> str:
        return f"{SCHEME}://{_host_part(self.host)}:{self.port}/{self.name}"

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def connection(self, environ: Optional[dict[str, str]] = None) -> dict[str, Any]:
        """The client's connection settings, with credentials and TLS from the environment.

        TLS (with certificate checks) is on by default for a cluster on another
        machine and off on loopback; ``CLONUS_OPENSEARCH_TLS=0``/``1`` overrides.
        """
        env = os.environ if environ is None else environ
        tls_flag = env.get(ENV_TLS, "").strip().lower()
        if tls_flag not in ("", "0", "1", "true", "false", "yes", "no"):
            raise ClonusIndexError(f"{ENV_TLS}={tls_flag!r}: use 1 (TLS on) or 0 (TLS off)")
        tls = (not self.loopback) if tls_flag == "" else tls_flag in ("1", "true", "yes")
        settings: dict[str, Any] = {
            "hosts": [{"host": self.host, "port": self.port}], "use_ssl": tls,
            "verify_certs": tls, "ssl_show_warn": False, "timeout": 60,
            "pool_maxsize": POOL_SIZE,
        }
        user, password = env.get(ENV_USER), env.get(ENV_PASSWORD)
        if bool(user) != bool(password):
            raise ClonusIndexError(f"set both {ENV_USER} and {ENV_PASSWORD}, or neither")
        if user:
            settings["http_auth"] = (user, password)
        if tls and env.get(ENV_CA_CERTS):
            settings["ca_certs"] = env[ENV_CA_CERTS]
        return settings


def _host_part(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def is_opensearch_url(location: object) -> bool:
    """True for ``opensearch://...``: an index in OpenSearch rather than a folder."""
    return isinstance(location, str) and location.lower().startswith(f"{SCHEME}://")


def parse_url(url: str) -> OpenSearchTarget:
    """``opensearch://host[:port]/NAME`` as a target, or a one-line error saying what to fix."""
    example = f"{SCHEME}://127.0.0.1:9200/NAME"
    parts = urlsplit(url)
    if parts.scheme.lower() != SCHEME:
        raise ClonusIndexError(f"{url}: not an OpenSearch index URL; write it as {example}")
    if parts.username or parts.password:
        raise ClonusIndexError(f"{url}: keep credentials out of the URL; set {ENV_USER} and "
                               f"{ENV_PASSWORD} instead")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ClonusIndexError(f"{url}: the port is not a number from 1 to 65535; "
                               f"write it as {example}") from None
    name = parts.path.strip("/")
    if not parts.hostname or not name or parts.query or parts.fragment:
        raise ClonusIndexError(f"{url}: needs a host and an index name; write it as {example}")
    if not _NAME.match(name) or name in (".", ".."):
        raise ClonusIndexError(
            f"{url}: {name!r} cannot name an OpenSearch index; use lower-case letters, digits, "
            "'-', '_' and '.', starting with a letter or digit")
    return OpenSearchTarget(parts.hostname, port, name)


def client_for(target: OpenSearchTarget):
    try:
        from opensearchpy import OpenSearch
    except ImportError:
        raise ClonusIndexError(f"{target.url}: OpenSearch support is not installed; "
                               'install it with: pip install "clonus-index[opensearch]"') from None
    return OpenSearch(**target.connection())


@contextlib.contextmanager
def reaching(target: OpenSearchTarget) -> Iterator[None]:
    """Turn the client's errors (unreachable, refused, gone, failing) into one-line messages."""
    from opensearchpy import exceptions as ox
    try:
        yield
    except ox.ConnectionError as exc:
        raise IndexUnavailableError(
            f"{target.url}: cannot reach OpenSearch ({type(exc.info).__name__ if exc.info else exc}); "
            f"start it, or check the host, the port and {ENV_TLS}") from None
    except ox.AuthenticationException:
        raise IndexUnavailableError(f"{target.url}: OpenSearch refused the credentials; "
                                    f"check {ENV_USER} and {ENV_PASSWORD}") from None
    except ox.AuthorizationException:
        raise IndexUnavailableError(f"{target.url}: these credentials may not use index "
                                    f"{target.name}; ask for access or choose another name") from None
    except ox.NotFoundError:
        raise IndexDamagedError(f"{target.url}: the index this reader opened is gone (later "
                                "builds replaced it, or it was deleted); open it again") from None
    except ox.TransportError as exc:
        raise IndexUnavailableError(f"{target.url}: OpenSearch could not answer ({exc.status_code} "
                                    f"{exc.error}); check the cluster's health") from None
