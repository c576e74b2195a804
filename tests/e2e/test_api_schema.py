"""Schemathesis against `local up`: every route of the REST API, as the OpenAPI document it serves says.

One `local up` process (moto server, the local REST API and the functions' instances), started
as a developer starts it. Schemathesis reads the committed OpenAPI document (its pytest plugin
needs the schema when tests are collected, before `local up` runs), and the first test holds
it equal to what `GET /openapi.json` serves. Then Schemathesis sends generated requests to every
route, valid and not, each signed with SigV4 as an app's SDK signs them: every answer must not
be a 5xx and must match its documented status, content type and schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
import requests
import schemathesis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckFunction
from schemathesis.specs.openapi import checks as openapi_checks
from ses_feedback_cli.openapi import DOCUMENT_PATH

from tests.e2e.test_local_mode import local_up_serving

# long: about a minute on two cores, so it starts first under xdist.
pytestmark = [pytest.mark.e2e, pytest.mark.long]

# Examples per route: enough for every status the generated data can reach, bounded so the
# run takes about a minute on two cores.
EXAMPLES_PER_ROUTE = 25

# Checks left out, each with its reason:
EXCLUDED_CHECKS: list[CheckFunction] = [
    # Unsigned requests are served as the developer locally (see the schema's configuration).
    openapi_checks.ignored_auth,
    # A method a route does not have: API Gateway (REST) answers 403 Missing Authentication
    # Token, not RFC 9110's 405, and the local API answers as API Gateway does.
    openapi_checks.unsupported_method,
    # "Valid by the schema" is not valid by the service: the schema cannot say that `from` must
    # be at the stack's sending domain, that a lift needs a suppression, or that a token must be
    # one this stack signed; those answers are documented refusals (400, 404, 409).
    openapi_checks.positive_data_acceptance,
]

# Every documented (operation, status) that generated requests may not reach here, why, and
# where it is tested instead. Every other documented status must be reached by this run (the
# ``reached`` fixture checks that, route by route).
UNREACHED: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/messages"): {
        "409": "reached when an example repeats an idempotency key; on_suppressed=reject with a "
        "suppressed recipient needs a suppression first: test_sender_function.py",
        "422": "SES MessageRejected (content refused): moto never refuses content; Stubber in "
        "test_sender_function.py",
        "424": "SES MailFromDomainNotVerified: moto does not check; Stubber in test_sender_function.py",
        "429": "SES throttling after botocore's retries: test_sender_function.py answers 429 itself",
        "501": "bulk streams without a streams secret: local up always has the secret",
        "502": "any other SES error (ses_error): Stubber in test_sender_function.py",
        "503": "sending paused or the reputation guard: Stubber and test_sending_guard.py",
    },
    ("POST", "/batches"): {
        "501": "a bulk stream without a streams secret: local up always has the secret",
        "503": "the batch queue failing part-way: moto's SQS does not fail; test_batches.py wraps "
        "the function's SQS client",
    },
    ("GET", "/batches/{batch_id}"): {
        "200": "needs the id of a batch the caller made, which generated text never is: "
        "test_batches.py, test_batches_loop.py",
    },
    ("DELETE", "/batches/{batch_id}"): {
        "200": "needs the id of a batch the caller made: test_batches.py",
    },
    ("GET", "/messages/{message_id}"): {
        "200": "needs the id of a message the caller sent, which generated text never is: "
        "test_timeline.py, test_webhooks_loop.py",
    },
    ("POST", "/webhooks"): {
        "201": "needs a URL a webhook takes (https://, or http:// on loopback locally), which "
        "generated text seldom is: test_webhooks_api.py, test_webhooks_loop.py",
    },
    ("GET", "/webhooks"): {
        "400": "a query parameter the route does not take (every route refuses one); the "
        "generator sends only documented parameters: test_hostile_bodies.py shows the rule",
    },
    ("DELETE", "/webhooks/{webhook_id}"): {
        "204": "needs the id of a webhook the caller added: test_webhooks_api.py, test_webhooks_loop.py",
    },
    ("POST", "/webhooks/{webhook_id}/test"): {
        "200": "needs the id of a webhook the caller added: test_webhooks_api.py, test_webhooks_loop.py",
    },
    ("PUT", "/suppressions/{address}"): {
        "503": "concurrent_update needs writes racing on one address: test_admin.py",
    },
    ("DELETE", "/suppressions/{address}"): {
        "404": "each example suppresses its address first, so that 200 is reached; a lift of an "
        "address that never was suppressed: test_suppressions_api.py",
        "409": "lifting a complaint or an erasure without force: test_suppressions_api.py",
        "503": "concurrent_update: test_admin.py",
    },
    ("POST", "/suppressions/{address}/erasure"): {
        "501": "erasure without a streams secret: local up always has the secret",
    },
    ("GET", "/unsubscribe/{token}"): {
        "200": "needs a token this stack signed, which generated text never is: test_streams.py",
        "501": "without a streams secret: local up always has the secret",
        "503": "concurrent_update: test_admin.py",
    },
    ("POST", "/unsubscribe/{token}"): {
        "200": "needs a token this stack signed: test_streams.py, test_streams_loop.py",
        "409": "rejoin_refused (the preference page's form) needs a token this stack signed: "
        "test_preferences.py",
        "501": "without a streams secret: local up always has the secret",
        "503": "concurrent_update: test_admin.py",
    },
}


class SigV4(requests.auth.AuthBase):
    """Signs a request with SigV4 (service execute-api) and local up's credentials, as boto3 would."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        signed = AWSRequest(
            method=request.method,
            url=request.url,
            data=body.encode() if isinstance(body, str) else body,
            headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
        )
        SigV4Auth(Credentials("testing", "testing"), "execute-api", "us-east-1").add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        return request


@pytest.fixture(scope="module")
def local_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log: Path = tmp_path_factory.mktemp("api-schema") / "up.log"
    with local_up_serving(log) as (api, _aws, _shell):
        yield api


schema = schemathesis.openapi.from_path(DOCUMENT_PATH)
# The document's security scheme is SigV4's Authorization header: every request is signed
# (SigV4 below) instead of Schemathesis writing or leaving out that header as a parameter.
# Locally an unsigned request is served as the developer (LOCAL_CALLER), where API Gateway
# (AWS_IAM) answers 403: the banner says so, and test_local_api.py holds the signed, unsigned
# and badly signed cases.
# Deterministic: the same requests every run, so a failure here fails every run, not one in ten.
schema.config.generation.update(with_security_parameters=False, deterministic=True)


def test_the_api_serves_the_document_schemathesis_reads(local_api: str) -> None:
    served = requests.get(f"{local_api}/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == schema.raw_schema


@pytest.fixture
def reached() -> Iterator[dict[tuple[str, str], set[str]]]:
    """The statuses one route's run reached (Schemathesis runs each route as a subtest, with
    fixtures of its own); when it ends, each of the route's documented statuses must have been
    reached or be argued away in UNREACHED.

    A fixture's teardown and not a test of its own: under xdist another test may run on another
    worker (pytest 9.2 drops xdist_group: xdist 3.8 renames ``item._nodeid``, which pytest no
    longer reads).
    """
    seen: dict[tuple[str, str], set[str]] = {}
    yield seen
    paths = schema.raw_schema["paths"]
    # The route itself; the other keys are methods it does not have, probed by Schemathesis.
    routes = [(method, path) for method, path in seen if method.lower() in paths.get(path, {})]
    assert len(routes) == 1, seen
    method, path = routes[0]
    documented = set(paths[path][method.lower()]["responses"])
    left = documented - seen[routes[0]] - set(UNREACHED.get(routes[0], {}))
    assert not left, f"{method} {path}: documented {sorted(left)} neither reached nor argued away"


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_every_route_answers_as_its_document_says(
    case: Any, local_api: str, reached: dict[tuple[str, str], set[str]]
) -> None:
    if (case.method.upper(), case.path) == ("DELETE", "/suppressions/{address}"):
        # A lift answers 200 only for a suppressed address that needs no force. Suppress it
        # by hand first, in this worker's stack, from a clean slate (the erasure route's examples
        # may have erased it, and the PUT route's may have run on another xdist worker, against
        # another stack): otherwise no lift here would answer 200.
        # (Schemathesis keeps the path parameter percent-encoded already.)
        address = quote(unquote(str(case.path_parameters["address"])), safe="")
        url = f"{local_api}/suppressions/{address}"
        clean = {"note": "schema run", "force": "true"}
        requests.delete(url, params=clean, auth=SigV4(), timeout=30)
        requests.put(url, json={"note": "schema run"}, auth=SigV4(), timeout=30)
    response = case.call_and_validate(base_url=local_api, auth=SigV4(), excluded_checks=EXCLUDED_CHECKS)
    reached.setdefault((case.method.upper(), case.path), set()).add(str(response.status_code))
