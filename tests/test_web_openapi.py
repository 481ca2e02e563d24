"""The HTTP service against its own OpenAPI document: schemathesis strategies, Hypothesis runs.

Requests are generated from the served document, valid ones and invalid
ones; every answer must be documented (status, content type, body schema),
invalid requests must be refused, and none may be a server error. A request
the document allows may still be refused with a 400 and its one-line reason
(an unknown section, a blank query), which a schema cannot say, so
schemathesis's "valid data is accepted" check is left out. Bounded: at most
30 requests per endpoint and mode, derandomized so a run is repeatable, and
not shrunk (a failure is reported as found).
"""

from __future__ import annotations

import urllib.parse

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, settings
from schemathesis import GenerationMode

from clonus_index.web import MAX_REQUEST_LINE
from conftest import Server

pytestmark = pytest.mark.slow

ENDPOINTS = ["/search", "/passages/{passage_id}", "/articles", "/articles/{article_id}", "/info",
             "/health"]
#: The endpoints with parameters that can be given invalid values.
TYPED = ["/search", "/articles"]
CASES = ([(e, GenerationMode.POSITIVE) for e in ENDPOINTS]
         + [(e, GenerationMode.NEGATIVE) for e in TYPED])


@pytest.fixture(scope="module")
def served(seed_index):
    s = Server("--index", str(seed_index.path))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def api_schema(served):
    return schemathesis.openapi.from_url(served.url + "/openapi.json")


def test_the_document_lists_every_endpoint(api_schema):
    assert sorted(api_schema) == sorted(ENDPOINTS)


@pytest.mark.parametrize("endpoint, mode", CASES, ids=[f"{e} {m.value}" for e, m in CASES])
def test_every_answer_is_documented_and_none_is_a_server_error(api_schema, served, endpoint,
                                                               mode):
    operation = api_schema[endpoint]["GET"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def check(case):
        # Past the request-line bound the server drops the connection
        # (test_web.py checks that); everything below it must be answered.
        assume(len(urllib.parse.urlencode(case.query or {}, doseq=True)) < MAX_REQUEST_LINE - 4096)
        response = case.call_and_validate(
            base_url=served.url, excluded_checks=[schemathesis.checks.positive_data_acceptance])
        assert response.status_code < 500

    check()
