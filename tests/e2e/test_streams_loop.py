"""Streams end to end on a moto server: a newsletter, its unsubscribe link, the simulator, erasure.

The stack is bootstrapped by the real CLI (`local bootstrap`), feedback comes from the local
SES's mailbox simulator and is drained by `local drain`, operators use `suppressions get
--stream` and `suppressions erase`, transactional mail goes through `ses-feedback send`.
SenderFunction and UnsubscribeFunction run in this process against the server (as the CLI
runs them), so the test reads the SendEmail parameters the sender built (headers, bodies)
and calls the unsubscribe routes with API Gateway's events.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from ses_feedback import wiring
from ses_feedback_cli.local import LocalContext, LocalStack, load_handler
from ses_feedback_cli.template import REPO_ROOT

from tests.e2e.conftest import Cli

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

Handler = Callable[[dict[str, Any], Any], Any]


def every_item() -> str:
    """Every item of every table, as JSON text (to look for an address in clear)."""
    dynamodb = boto3.client("dynamodb")
    return json.dumps(
        [
            item
            for table in dynamodb.list_tables()["TableNames"]
            for item in dynamodb.scan(TableName=table)["Items"]
        ]
    )


class Loop:
    def __init__(self, cli: Cli) -> None:
        self.cli = cli
        self.cli.json("local", "bootstrap")
        stack = LocalStack()
        self.unsubscribe_handler = load_handler(stack, "UnsubscribeFunction", quiet=True)
        self.sender = load_handler(stack, "SenderFunction", quiet=True)
        self.calls: list[dict[str, Any]] = []
        wiring.sender().ses.client.meta.events.register(
            "before-parameter-build.sesv2.SendEmail", lambda params, **_: self.calls.append(params)
        )

    def newsletter(self, *to: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.sender({**NEWSLETTER, "to": list(to)}, LocalContext("SenderFunction"))
        return answer

    def transactional(self, to: str) -> dict[str, Any]:
        result = self.cli.run(
            "send",
            "--from",
            "noreply@example.com",
            "--to",
            to,
            "--subject",
            "Code",
            "--text",
            "123456",
            "--json",
            check=False,
        )
        answer: dict[str, Any] = json.loads(result.stdout)
        return answer

    def unsubscribe(self, method: str, token: str, body: str | None = None) -> tuple[int, str]:
        name = "get_page.json" if method == "GET" else "post_one_click.json"
        event = json.loads((REPO_ROOT / "events" / "unsubscribe" / name).read_text())
        event.update(path=f"/unsubscribe/{token}", pathParameters={"token": token}, body=body)
        response = self.unsubscribe_handler(event, LocalContext("UnsubscribeFunction"))
        return response["statusCode"], response["body"]

    def on_stream(self, address: str, stream: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.cli.json("suppressions", "get", address, "--stream", stream, "--json")
        return answer


@pytest.fixture
def loop(cli: Cli) -> Iterator[Loop]:
    # load_handler sets the functions' environment in this process (quiet ones log nothing and
    # disable metrics): put it back for the tests that follow.
    saved = dict(os.environ)
    try:
        yield Loop(cli)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_a_newsletter_its_one_click_unsubscribe_and_scoped_feedback(loop: Loop) -> None:
    # A bulk send: one message per recipient, both headers and the body link
    answer = loop.newsletter(SUCCESS, COMPLAINT, BOUNCE)
    assert answer["status"] == "sent" and len(answer["messages"]) == 3
    to_success = next(c for c in loop.calls if c["Destination"]["ToAddresses"] == [SUCCESS])
    headers = {h["Name"]: h["Value"] for h in to_success["Content"]["Simple"]["Headers"]}
    url = headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://127.0.0.1:3000/unsubscribe/")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in to_success["Content"]["Simple"]["Body"]["Text"]["Data"]
    token = url.rsplit("/", 1)[1]

    # GET the URL: a page, nothing changes
    before = every_item()
    status, page = loop.unsubscribe("GET", token)
    assert status == 200 and "<form" in page
    assert every_item() == before
    # POST a forged token: 4xx, nothing changes
    status, _ = loop.unsubscribe("POST", token[:-4] + "AAAA", "List-Unsubscribe=One-Click")
    assert status == 400
    assert every_item() == before
    # POST One-Click: 2xx
    status, _ = loop.unsubscribe("POST", token, "List-Unsubscribe=One-Click")
    assert status == 200
    assert loop.on_stream(SUCCESS, "newsletter")["reason"] == "unsubscribed"
    assert loop.on_stream(SUCCESS, "transactional")["suppressed"] is False
    assert loop.transactional(SUCCESS)["status"] == "sent"

    # The simulator's complaint and hard bounce, drained
    assert loop.cli.json("local", "drain")["failed"] == 0
    assert loop.on_stream(COMPLAINT, "newsletter")["reason"] == "complaint"
    assert loop.on_stream(COMPLAINT, "promo")["reason"] == "complaint"
    assert loop.on_stream(COMPLAINT, "transactional")["suppressed"] is False
    assert loop.on_stream(BOUNCE, "transactional")["reason"] == "hard_bounce"

    # The next newsletter goes to nobody; transactional mail to the complainer still goes
    again = loop.newsletter(SUCCESS, COMPLAINT, BOUNCE)
    assert again["status"] == "suppressed"
    assert {s["address"]: s["reason"] for s in again["suppressed"]} == {
        SUCCESS: "unsubscribed",
        COMPLAINT: "complaint",
        BOUNCE: "hard_bounce",
    }
    assert loop.transactional(COMPLAINT)["status"] == "sent"
    assert loop.transactional(BOUNCE)["status"] == "suppressed"


def test_erasure_leaves_the_address_in_no_table_and_suppressed_on_every_stream(loop: Loop) -> None:
    # Given an address with history, a stream entry and a soft-bounce count
    loop.newsletter(SUCCESS)
    token = loop.calls[0]["Content"]["Simple"]["Headers"][0]["Value"].strip("<>").rsplit("/", 1)[1]
    loop.unsubscribe("POST", token, "List-Unsubscribe=One-Click")
    loop.cli.json("local", "drain")
    assert SUCCESS in every_item()
    # When
    erased = loop.cli.json("suppressions", "erase", SUCCESS, "--note", "GDPR-1", "--actor", "ops", "--json")
    # Then
    assert erased["erased"] is True
    assert SUCCESS not in every_item()
    assert loop.transactional(SUCCESS)["suppressed"][0]["reason"] == "erased"
    assert loop.newsletter(SUCCESS)["suppressed"][0]["reason"] == "erased"
    for stream in ("transactional", "newsletter", "promo"):
        assert loop.on_stream(SUCCESS, stream)["reason"] == "erased"
    assert SUCCESS not in every_item()
