"""`local up` serves the template's REST API over HTTP, and `local mailbox` shows what SES accepted.

One `local up` process for the module, as a developer starts it; every test talks to it with
a real HTTP client (urllib) from outside, as an app would, and uses addresses of its own.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from ses_feedback_emulator.api import LocalApi, local_verifier
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_stack.names import LocalStack

from tests.e2e.conftest import Cli
from tests.e2e.test_local_mode import local_up_serving, user_env

LOCAL_CALLER_ARN = "arn:aws:iam::123456789012:user/local-developer"
# Who moto's STS says the local credentials (testing/testing) are.
SIGNER_ARN = "arn:aws:sts::123456789012:user/moto"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class LocalUp:
    api: str
    aws: str
    log: Path
    shell: Cli

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(
            f"{self.api}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Answer(response.status, dict(response.headers), json.loads(response.read()))
        except urllib.error.HTTPError as refused:
            return Answer(refused.code, dict(refused.headers), json.loads(refused.read()))

    def signed(self, method: str, path: str, body: Any = None, secret: str = "testing") -> Answer:
        """Signed with SigV4 by botocore, as an app's AWS SDK signs a call to the deployed API."""
        data = json.dumps(body).encode() if body is not None else b""
        request = AWSRequest(
            method=method, url=f"{self.api}{path}", data=data, headers={"Content-Type": "application/json"}
        )
        SigV4Auth(Credentials("testing", secret), "execute-api", "us-east-1").add_auth(request)
        return self.call(method, path, raw=data or None, headers=dict(request.headers.items()))

    def mailbox(self, *args: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.shell.json("local", "mailbox", "--json", *args)
        return messages


@pytest.fixture(scope="module")
def local_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalUp]:
    log = tmp_path_factory.mktemp("local-api") / "up.log"
    with local_up_serving(log) as (api, aws, shell):
        yield LocalUp(api=api, aws=aws, log=log, shell=shell)


def message(*to: str, subject: str = "Hello") -> dict[str, Any]:
    return {"from": "noreply@example.com", "to": list(to), "subject": subject, "text": "Hi there"}


def test_local_up_prints_both_endpoints_and_the_local_caller(local_up: LocalUp) -> None:
    banner = local_up.log.read_text()
    assert f"Endpoints: AWS {local_up.aws}  REST API {local_up.api}" in banner
    assert f"POST    {local_up.api}/messages" in banner
    assert f"unsigned requests are served as {LOCAL_CALLER_ARN}" in banner


def test_post_messages_sends_and_the_mailbox_shows_the_message(local_up: LocalUp) -> None:
    # When
    answer = local_up.call(
        "POST", "/messages", message("success+api@simulator.amazonses.com", subject="First")
    )
    # Then: the sender's own answer, status and headers unchanged
    assert answer.status == 200, answer.body
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.body["status"] == "sent"
    assert answer.body["sent_to"] == ["success+api@simulator.amazonses.com"]
    (kept,) = local_up.mailbox("--to", "SUCCESS+api@simulator.amazonses.com")
    assert kept["message_id"] == answer.body["message_id"]
    assert (kept["from"], kept["subject"], kept["text"]) == ("noreply@example.com", "First", "Hi there")
    assert kept["headers"]["Subject"] == "First"
    # The unsigned caller names the app, as an IAM principal does when deployed.
    assert kept["tags"] == {"app": "local-developer", "stream": "transactional"}
    assert [(r["address"], r["outcome"]) for r in kept["recipients"]] == [
        ("success+api@simulator.amazonses.com", "delivered")
    ]


def test_post_messages_answers_suppressed_once_the_bounce_is_drained(local_up: LocalUp) -> None:
    # Given: a first message bounces, and local up's background drain applies the bounce
    bounced = "bounce+api@simulator.amazonses.com"
    assert local_up.call("POST", "/messages", message(bounced)).body["status"] == "sent"
    deadline = time.monotonic() + 30
    state: Any = {}
    while time.monotonic() < deadline:
        state = local_up.call("GET", f"/suppressions/{bounced}").body
        if state["suppression"]["reason"] == "hard_bounce":
            break
        time.sleep(0.3)
    assert state["suppression"]["reason"] == "hard_bounce"
    # When
    answer = local_up.call("POST", "/messages", message(bounced))
    # Then
    assert answer.status == 200
    assert answer.body["status"] == "suppressed"
    assert answer.body["suppressed"][0]["reason"] == "hard_bounce"


def test_malformed_json_and_51_recipients_are_400_invalid_request(local_up: LocalUp) -> None:
    malformed = local_up.call("POST", "/messages", raw=b'{"from": "noreply@example.com", "to": [')
    too_many = local_up.call("POST", "/messages", message(*[f"user{i}@example.org" for i in range(51)]))
    assert (malformed.status, malformed.body["error"]["code"]) == (400, "invalid_request")
    assert (too_many.status, too_many.body["error"]["code"]) == (400, "invalid_request")
    assert "50" in too_many.body["error"]["message"]


def test_the_suppression_routes_and_the_openapi_document_are_served(local_up: LocalUp) -> None:
    address = "operator+api@example.org"
    path = f"/suppressions/{address}"
    # PUT: suppressed by hand, the unsigned local caller recorded as actor
    put = local_up.call("PUT", path, {"note": "asked by phone"})
    assert put.status == 200, put.body
    got = local_up.call("GET", path)
    assert (got.body["suppression"]["reason"], got.body["suppression"]["actor"]) == (
        "manual",
        LOCAL_CALLER_ARN,
    )
    listed = local_up.call("GET", "/suppressions?reason=manual&limit=100")
    assert address in [item["address"] for item in listed.body["items"]]
    # DELETE: the note comes as a query parameter
    lifted = local_up.call("DELETE", f"{path}?note={quote('mailbox fixed')}")
    assert lifted.status == 200, lifted.body
    assert local_up.call("GET", path).body["suppression"]["reason"] is None
    again = local_up.call("DELETE", f"{path}?note=twice")
    assert (again.status, again.body["error"]["code"]) == (404, "not_suppressed")
    document = local_up.call("GET", "/openapi.json")
    assert document.status == 200
    assert {"/messages", "/suppressions/{address}"} <= set(document.body["paths"])


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nope"), ("DELETE", "/messages"), ("GET", "/v1/messages")]
)
def test_an_unknown_route_is_refused_as_api_gateway_refuses_it(
    local_up: LocalUp, method: str, path: str
) -> None:
    answer = local_up.call(method, path)
    assert answer.status == 403
    assert answer.body == {"message": "Missing Authentication Token"}
    assert answer.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_a_sigv4_signed_request_is_served_as_its_signer(local_up: LocalUp) -> None:
    # Given
    address = "signed+api@example.org"
    # When: signed with the local credentials
    put = local_up.signed("PUT", f"/suppressions/{address}", {"note": "signed change"})
    # Then: the actor is the signer, not the local caller
    assert put.status == 200, put.body
    assert local_up.call("GET", f"/suppressions/{address}").body["suppression"]["actor"] == SIGNER_ARN
    # A wrong secret is API Gateway's 403, and the function is not called
    forged = local_up.signed("PUT", "/suppressions/forged+api@example.org", {"note": "x"}, secret="guess")
    assert forged.status == 403
    assert forged.body["message"].startswith("The request signature we calculated does not match")
    assert local_up.call("GET", "/suppressions/forged+api@example.org").body["suppression"]["reason"] is None


def test_forty_concurrent_posts_are_all_answered_and_all_in_the_mailbox(local_up: LocalUp) -> None:
    # When: 40 apps post at once
    def post(i: int) -> Answer:
        return local_up.call(
            "POST", "/messages", message(f"success+c{i}@simulator.amazonses.com", subject=f"c{i}")
        )

    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(post, range(40)))
    # Then: every one is answered, each with its own message
    assert [a.status for a in answers] == [200] * 40, [a.body for a in answers if a.status != 200]
    sent = {a.body["message_id"]: a.body["sent_to"][0] for a in answers}
    assert len(sent) == 40
    mailbox = {m["message_id"]: m["to"] for m in local_up.mailbox()}
    assert {message_id: mailbox.get(message_id, [None])[0] for message_id in sent} == sent


def test_the_mailbox_for_people_lists_each_message_and_what_happened(local_up: LocalUp) -> None:
    answer = local_up.call("POST", "/messages", message("ooto+api@simulator.amazonses.com", subject="Away?"))
    assert answer.status == 200
    printed = local_up.shell.run("local", "mailbox", "--to", "ooto+api@simulator.amazonses.com").stdout
    assert answer.body["message_id"] in printed
    assert "Subject: Away?" in printed
    assert "→ ooto+api@simulator.amazonses.com: auto_replied" in printed


def test_local_mailbox_says_plainly_when_no_local_ses_answers(closed_port: int) -> None:
    nobody = f"http://127.0.0.1:{closed_port}"
    result = Cli(env=user_env()).run("local", "mailbox", "--endpoint", nobody, check=False)
    assert result.returncode == 1
    assert f"no local SES answers at {nobody}" in result.stderr


def test_a_function_error_is_api_gateways_502_and_the_instance_serves_on(aws: str) -> None:
    # Given: the local API on a stack whose table does not exist yet
    stack = LocalStack(prefix="api-errors")
    api = LocalApi(stack, local_verifier(aws, stack.region), port=0, concurrency=1, quiet=True)
    api.start()
    try:
        shell = LocalUp(api=api.url, aws=aws, log=Path(os.devnull), shell=Cli(env=user_env()))
        # When: the function raises (DynamoDB: no such table)
        failed = shell.call("GET", "/suppressions/someone@example.org")
        # Then: API Gateway's answer for a function error
        assert (failed.status, failed.body) == (502, {"message": "Internal server error"})
        # And the same instance serves the next request once the table exists
        bootstrap(stack)
        served = shell.call("GET", "/suppressions/someone@example.org")
        assert served.status == 200, served.body
        assert api.pools["SuppressionsApiFunction"].instances == 1
    finally:
        api.stop()
