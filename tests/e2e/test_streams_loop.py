"""Streams end to end on `local up` as a process: a newsletter, its one-click unsubscribe, scoped
feedback from the mailbox simulator, erasure, and an operator's lifts of both.

`ses-feedback local up` runs on free ports, as a developer starts it; the test is an app and an
operator in another shell: it sends over HTTP (`POST /messages`), reads what the local SES
accepted with `local mailbox --json`, follows the unsubscribe link with a real HTTP client
(urllib), asks `suppressions get --stream` and `suppressions list --stream` (and `GET
/suppressions?stream=` over HTTP), runs `suppressions erase`, and lifts the unsubscribe and the
erasure with `DELETE /suppressions/{address}` over HTTP. Feedback from the
simulator is applied by `local up`'s own background drain.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from ses_feedback_stack.names import LocalStack

from tests.e2e.conftest import Cli
from tests.e2e.test_local_mode import local_up_serving

SUCCESS = "success@simulator.amazonses.com"
COMPLAINT = "complaint@simulator.amazonses.com"
BOUNCE = "bounce@simulator.amazonses.com"
NEWSLETTER = {
    "from": "news@example.com",
    "subject": "November",
    "text": "Our news. Unsubscribe: {{unsubscribe_url}}",
    "html": '<p>Our news.</p><a href="{{unsubscribe_url}}">Unsubscribe</a>',
    "stream": "newsletter",
}
# One `local up` per xdist worker that runs a test of this module (module scope).
ONE_CLICK = b"List-Unsubscribe=One-Click"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Reply:
    status: int
    content_type: str
    body: str


@dataclass
class Stack:
    """`local up` seen from outside: its REST API, its AWS endpoint, and a second shell."""

    api: str
    aws: str
    shell: Cli

    def http(
        self, method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Reply(response.status, response.headers["Content-Type"], response.read().decode())
        except urllib.error.HTTPError as refused:
            return Reply(refused.code, refused.headers["Content-Type"], refused.read().decode())

    def send(self, *to: str, **fields: Any) -> dict[str, Any]:
        body = {"from": "noreply@example.com", "subject": "Code", "text": "123456", **fields, "to": list(to)}
        reply = self.http(
            "POST", f"{self.api}/messages", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        assert reply.status == 200, reply.body
        answer: dict[str, Any] = json.loads(reply.body)
        return answer

    def newsletter(self, *to: str, stream: str = "newsletter") -> dict[str, Any]:
        return self.send(*to, **{**NEWSLETTER, "stream": stream})

    def on_stream(self, address: str, stream: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.shell.json("suppressions", "get", address, "--stream", stream, "--json")
        return answer

    def every_item(self) -> str:
        """Every item of every table on the moto server, as JSON text (to look for an address in clear)."""
        dynamodb = boto3.client("dynamodb", endpoint_url=self.aws)
        items = [
            json.dumps(item, sort_keys=True)
            for table in dynamodb.list_tables()["TableNames"]
            for page in dynamodb.get_paginator("scan").paginate(TableName=table)
            for item in page["Items"]
        ]
        return "\n".join(sorted(items))

    def feedback_drained(self) -> bool:
        """The background drain has applied everything SES published (the queue holds nothing)."""
        sqs = boto3.client("sqs", endpoint_url=self.aws)
        url = sqs.get_queue_url(QueueName=LocalStack().name("FeedbackQueue"))["QueueUrl"]
        counts = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return all(value == "0" for value in counts.values())


def eventually(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the timeout"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with local_up_serving(tmp_path_factory.mktemp("streams") / "up.log") as (api, aws, shell):
        yield Stack(api=api, aws=aws, shell=shell)


def test_a_newsletter_its_one_click_unsubscribe_and_scoped_feedback(stack: Stack) -> None:
    # A bulk send over HTTP: one message per recipient
    answer = stack.newsletter(SUCCESS, COMPLAINT, BOUNCE)
    assert answer["status"] == "sent" and len(answer["messages"]) == 3
    # The local mailbox shows both headers, pointing at this local API, and the body link
    (kept,) = stack.shell.json("local", "mailbox", "--json", "--to", SUCCESS)
    url = kept["headers"]["List-Unsubscribe"].removeprefix("<").removesuffix(">")
    assert url.startswith(f"{stack.api}/unsubscribe/")
    assert kept["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert kept["text"] == f"Our news. Unsubscribe: {url}"
    assert f'href="{url}"' in kept["html"]
    # The simulator's complaint and hard bounce, applied by local up's drain
    eventually(
        lambda: (
            stack.feedback_drained()
            and stack.on_stream(COMPLAINT, "newsletter")["reason"] == "complaint"
            and stack.on_stream(BOUNCE, "transactional")["reason"] == "hard_bounce"
        )
    )
    before = stack.every_item()

    # GET the URL: a page whose button POSTs, and nothing changes
    page = stack.http("GET", url)
    assert (page.status, page.content_type.split(";")[0]) == (200, "text/html")
    assert "<form" in page.body and 'method="post"' in page.body.lower()
    assert stack.every_item() == before
    # POST One-Click with a forged token: 4xx, and nothing changes
    forged = stack.http("POST", url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB"), ONE_CLICK, FORM)
    assert 400 <= forged.status < 500
    assert stack.every_item() == before
    assert stack.on_stream(SUCCESS, "newsletter")["suppressed"] is False
    # POST One-Click, as a mail client does: 2xx, and again (idempotent)
    assert stack.http("POST", url, ONE_CLICK, FORM).status == 200
    assert stack.http("POST", url, ONE_CLICK, FORM).status == 200

    # Unsubscribed from this stream only
    assert stack.on_stream(SUCCESS, "newsletter")["reason"] == "unsubscribed"
    # The newsletter's listing (CLI, and the API over HTTP) holds all three, each with what covers
    # it; the transactional listing only the hard bounce
    listing = stack.shell.json("suppressions", "list", "--stream", "newsletter", "--json")
    over_http = json.loads(stack.http("GET", f"{stack.api}/suppressions?stream=newsletter").body)
    for page in (listing, over_http):
        assert page["next_cursor"] is None
        assert {item["address"]: (item["reason"], item["scope"]) for item in page["items"]} == {
            SUCCESS: ("unsubscribed", "newsletter"),
            COMPLAINT: ("complaint", "*bulk"),
            BOUNCE: ("hard_bounce", "*"),
        }
    transactional = stack.shell.json("suppressions", "list", "--stream", "transactional", "--json")
    assert [item["address"] for item in transactional["items"]] == [BOUNCE]
    assert stack.on_stream(SUCCESS, "promo")["suppressed"] is False
    assert stack.on_stream(SUCCESS, "transactional")["suppressed"] is False
    assert stack.send(SUCCESS)["status"] == "sent"
    # A complaint about bulk mail blocks every bulk stream, not transactional mail
    assert stack.on_stream(COMPLAINT, "promo")["reason"] == "complaint"
    assert stack.on_stream(COMPLAINT, "transactional")["suppressed"] is False
    assert stack.send(COMPLAINT)["status"] == "sent"
    # A hard bounce blocks every stream
    assert stack.on_stream(BOUNCE, "newsletter")["reason"] == "hard_bounce"
    assert stack.send(BOUNCE)["status"] == "suppressed"
    # The next newsletter goes to nobody
    again = stack.newsletter(SUCCESS, COMPLAINT, BOUNCE)
    assert again["status"] == "suppressed"
    assert {s["address"]: s["reason"] for s in again["suppressed"]} == {
        SUCCESS: "unsubscribed",
        COMPLAINT: "complaint",
        BOUNCE: "hard_bounce",
    }

    # An operator lifts the unsubscribe over HTTP, naming the stream (she subscribed again)
    query = urllib.parse.urlencode({"stream": "newsletter", "note": "subscribed again, form 12"})
    lifted = stack.http("DELETE", f"{stack.api}/suppressions/{SUCCESS}?{query}")
    assert lifted.status == 200 and json.loads(lifted.body)["changed"] is True
    assert stack.newsletter(SUCCESS)["status"] == "sent"


def test_erasure_leaves_the_address_in_no_table_and_suppressed_on_every_stream(stack: Stack) -> None:
    # Given an address with history, a stream entry (an unsubscribe) and deliveries
    erased = "success+erase@simulator.amazonses.com"
    stack.newsletter(erased)
    (kept,) = stack.shell.json("local", "mailbox", "--json", "--to", erased)
    url = kept["headers"]["List-Unsubscribe"].removeprefix("<").removesuffix(">")
    assert stack.http("POST", url, ONE_CLICK, FORM).status == 200
    assert stack.send(erased)["status"] == "sent"
    eventually(stack.feedback_drained)
    assert erased in stack.every_item()
    # When
    answer = stack.shell.json("suppressions", "erase", erased, "--note", "GDPR-1", "--actor", "ops", "--json")
    # Then: no table holds the address in clear
    assert answer["erased"] is True
    assert erased not in stack.every_item()
    # And every stream is suppressed, with reason erased
    assert stack.send(erased)["suppressed"][0]["reason"] == "erased"
    assert stack.newsletter(erased)["suppressed"][0]["reason"] == "erased"
    assert stack.newsletter(erased, stream="promo")["suppressed"][0]["reason"] == "erased"
    for stream in ("transactional", "newsletter", "promo"):
        assert stack.on_stream(erased, stream)["reason"] == "erased"
    eventually(stack.feedback_drained)
    assert erased not in stack.every_item()

    # Lifting the erasure needs the address and force (over HTTP, as an operator's tool calls it)
    query = urllib.parse.urlencode({"note": "joined again, ticket 2"})
    refused = stack.http("DELETE", f"{stack.api}/suppressions/{erased}?{query}")
    assert (refused.status, json.loads(refused.body)["error"]["code"]) == (409, "erasure_needs_force")
    lifted = stack.http("DELETE", f"{stack.api}/suppressions/{erased}?{query}&force=true")
    assert lifted.status == 200
    assert stack.newsletter(erased)["status"] == "sent"
