"""`ses-feedback demo`: the whole loop on a fresh embedded stack, in under a minute.

A small campaign goes through SenderFunction to the SES mailbox simulator and to ordinary
addresses; the local SES publishes what real SES would; FeedbackFunction drains it into
the suppression list; then the same campaign is sent again and the suppressed recipients
are skipped. Last, an app's call: ``POST /messages`` over HTTP on the local REST API (what
``local up`` serves), a newsletter whose recipient unsubscribes with one click (RFC 8058),
and the local SES's mailbox. Everything runs for real on a moto server
process: nothing is faked here.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from ses_feedback import wiring
from ses_feedback.model.answers import Suppression
from ses_feedback.model.webhooks import EVERY_APP, SECRET_HEADER
from ses_feedback.parsing.addresses import normalize_address
from ses_feedback.parsing.events import parse_sqs_body
from ses_feedback.parsing.webhooks import WebhookRequest
from ses_feedback.settings import Settings
from ses_feedback_stack.names import LocalStack

from ses_feedback_emulator import dmarc as dmarc_local
from ses_feedback_emulator import mailbox as local_mailbox
from ses_feedback_emulator import motoserver
from ses_feedback_emulator.api import LocalApi, local_verifier
from ses_feedback_emulator.bootstrap import bootstrap, use_embedded_aws
from ses_feedback_emulator.lambdas import LocalContext, drain, load_handler
from ses_feedback_emulator.receiver import Receiver
from ses_feedback_emulator.simulator import SentMessage, notifications

SENDER = "Demo <noreply@example.com>"
CAMPAIGN = [
    "success@simulator.amazonses.com",
    "bounce@simulator.amazonses.com",
    "bounce+campaign7@simulator.amazonses.com",
    "complaint@simulator.amazonses.com",
    "ooto@simulator.amazonses.com",
    "suppressionlist@simulator.amazonses.com",
    "ada@example.org",
    "grace@example.net",
]
FEEDBACK_TIMEOUT = 30.0
# The app's call in step 5: one recipient fine, one that bounced in the campaign.
API_REQUEST = {
    "from": "noreply@example.com",
    "to": ["ada@example.org", "bounce@simulator.amazonses.com"],
    "subject": "Your receipt",
    "text": "Thank you for your order.",
}
# Step 6: a bulk stream's message; its recipient then unsubscribes from that stream only.
NEWSLETTER_REQUEST = {
    "from": "news@example.com",
    "to": ["ada@example.org"],
    "subject": "Spring news",
    "text": "What is new this spring. Unsubscribe: {{unsubscribe_url}}",
    "stream": "newsletter",
}
ONE_CLICK = b"List-Unsubscribe=One-Click"  # the form body RFC 8058 has mail clients POST


@dataclass
class Row:
    recipient: str
    round1: str = "-"  # what the sender answered the first time
    delivered: bool = False
    bounced: str | None = None  # bounce type/subtype
    complained: bool = False
    auto_reply: bool = False  # an out-of-office answer reached the sender
    suppressed: bool = False
    reason: str | None = None
    round2: str = "-"


@dataclass
class DemoResult:
    rows: list[Row] = field(default_factory=list)
    feedback_applied: int = 0
    seconds: float = 0.0
    api_status: int = 0  # POST /messages over HTTP: the status and the answer
    api_answer: dict[str, Any] = field(default_factory=dict)
    mailbox: list[dict[str, Any]] = field(default_factory=list)  # what the local SES accepted
    unsubscribe: dict[str, Any] = field(default_factory=dict)  # the newsletter's one-click unsubscribe
    webhook: list[dict[str, Any]] = field(default_factory=list)  # what the app's webhook received

    @property
    def consistent(self) -> bool:
        """The second round skipped exactly the suppressed recipients."""
        return all((row.round2 == "skipped") == row.suppressed for row in self.rows)


Say = Callable[[str], None]
STEPS = 9
# The app's webhook (step 4): what it subscribes to, and how long the deliveries may take.
WEBHOOK_EVENTS = ["message.bounced", "recipient.suppressed"]
WEBHOOK_TIMEOUT = 10.0


def _step(say: Say, number: int, text: str) -> None:
    say(f"{number}/{STEPS} {text}")


def run(say: Say, campaign: list[str] = CAMPAIGN, max_send_rate: float | None = None) -> DemoResult:
    # max_send_rate: the local SES throttles above it (as `local up --max-send-rate`).
    started = time.monotonic()

    server = motoserver.start(max_send_rate=max_send_rate)
    use_embedded_aws(server.endpoint)
    try:
        _step(
            say, 1, f"embedded AWS (moto server) on {server.endpoint}; creating the stack from template.yaml"
        )
        stack = LocalStack()
        bootstrap(stack)
        sender = load_handler(stack, "SenderFunction", quiet=True)
        feedback = load_handler(stack, "FeedbackFunction", quiet=True)
        rows = {address: Row(address) for address in campaign}
        receiver = _app_webhook(stack)

        _step(say, 2, f"sending the campaign to {len(campaign)} recipients through SenderFunction")
        expected = 0
        for address in campaign:
            answer = _send(sender, address)
            rows[address].round1 = answer["status"]
            if answer.get("message_id"):
                sent = SentMessage(message_id=answer["message_id"], source=SENDER, to=[address])
                expected += len(notifications(sent, datetime.now(UTC)))

        _step(
            say, 3, f"SES feedback flowing: SNS → SQS → FeedbackFunction (expecting {expected} notifications)"
        )
        seen = _drain_feedback(stack, feedback, expected, rows, say)

        _read_outcomes(server.endpoint, stack, rows)

        # A message.bounced per bounce, a recipient.suppressed per new suppression (the complaint too).
        expected_calls = sum(1 for row in rows.values() if row.bounced) + sum(
            r.suppressed for r in rows.values()
        )
        webhook = _webhook_received(receiver, expected_calls, say)

        _step(say, 5, "sending the same campaign again")
        for address in campaign:
            answer = _send(sender, address)
            rows[address].round2 = "skipped" if answer["status"] == "suppressed" else answer["status"]

        api = LocalApi(
            stack, local_verifier(server.endpoint, stack.region), port=0, concurrency=1, quiet=True
        )
        api.start()
        try:
            _step(say, 6, f"an app's call to the REST API (`local up` serves it):\n    {curl_line(api.url)}")
            status, api_answer = post_messages(api.url)
            say(f"    HTTP {status} {json.dumps(api_answer)}")
            _step(
                say,
                7,
                "a newsletter (a bulk stream) over the same API, and its one-click unsubscribe (RFC 8058)",
            )
            unsubscribe = one_click_unsubscribe(api.url, server.endpoint, stack, say)
        finally:
            api.stop()
        _step(
            say,
            8,
            "a receiver's DMARC aggregate report arrives (SES receiving → bucket → DmarcReportFunction)",
        )
        for line in dmarc_local.demo(stack, sent=sum(row.round1 == "sent" for row in rows.values())):
            say(line)
        mailbox = local_mailbox.fetch(server.endpoint)
        _step(
            say,
            9,
            f"the local SES's mailbox (`ses-feedback local mailbox`): {len(mailbox)} messages; the last:",
        )
        for line in local_mailbox.describe(mailbox[-1]):
            say(f"    {line}")
        return DemoResult(
            rows=list(rows.values()),
            feedback_applied=seen,
            seconds=time.monotonic() - started,
            api_status=status,
            api_answer=api_answer,
            mailbox=mailbox,
            unsubscribe=unsubscribe,
            webhook=webhook,
        )
    finally:
        server.stop()
        del os.environ["AWS_ENDPOINT_URL"]


def _read_outcomes(endpoint: str, stack: LocalStack, rows: dict[str, Row]) -> None:
    """Which recipients answered with an auto-reply, and which are suppressed now."""
    with urllib.request.urlopen(f"{endpoint}/_local/mailbox", timeout=5) as response:
        for reply in json.loads(response.read()):
            row_for = rows.get(reply["headers"]["From"])
            if row_for is not None:
                row_for.auto_reply = True
    admin = wiring.admin_for(
        Settings.from_env({**os.environ, "SUPPRESSION_TABLE": stack.name("SuppressionTable")})
    )
    for address, row in rows.items():
        suppression = Suppression.of(admin.get(address)[0], datetime.now(UTC))
        row.suppressed = suppression.reason is not None
        row.reason = suppression.reason.value if suppression.reason else None


def _app_webhook(stack: LocalStack) -> Receiver:
    """A receiver on loopback, and an operator's webhook to it for every app's bounces."""
    receiver = Receiver()
    settings = Settings.from_env({**os.environ, **stack.function_environment("WebhooksFunction")})
    request = WebhookRequest(url=receiver.url, events=WEBHOOK_EVENTS, app=EVERY_APP)
    wiring.webhooks_for(settings).add(request, None)
    return receiver


def _webhook_received(receiver: Receiver, expected: int, say: Say) -> list[dict[str, Any]]:
    """Step 4: what the webhook received (each bounce, each suppression), as it arrived."""
    webhook = receiver.wait(expected, WEBHOOK_TIMEOUT)
    receiver.stop()
    _step(
        say,
        4,
        f"the app's webhook (an EventBridge rule and API destination; `local up` delivers) at {receiver.url}"
        f" received {len(webhook)} events, each with its secret in {SECRET_HEADER}:",
    )
    for body in sorted(webhook, key=lambda b: (b["address"], b["type"])):
        if body["type"] == "message.bounced":
            extra = f" {body['bounce_type']}/{body['bounce_subtype']}"
        else:
            extra = f" reason {body.get('reason')}"
        say(f"    {body['type']:<22} {body['address']}{extra}")
    return webhook


def curl_line(api_url: str) -> str:
    return (
        f"curl -s -X POST {api_url}/messages -H 'Content-Type: application/json' "
        f"-d '{json.dumps(API_REQUEST)}'"
    )


def post_messages(api_url: str, body: dict[str, Any] = API_REQUEST) -> tuple[int, dict[str, Any]]:
    """What the curl line does: POST /messages over HTTP, unsigned (the local caller)."""
    request = urllib.request.Request(
        f"{api_url}/messages",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return response.status, answer


def one_click_unsubscribe(api_url: str, aws_endpoint: str, stack: LocalStack, say: Say) -> dict[str, Any]:
    """A newsletter over HTTP, its headers in the mailbox, the One-Click POST a mail client
    sends, and what the recipient's state is then on each stream."""
    _, sent = post_messages(api_url, NEWSLETTER_REQUEST)
    (message,) = [m for m in local_mailbox.fetch(aws_endpoint) if m["message_id"] == sent["message_id"]]
    headers = {name: message["headers"][name] for name in ("List-Unsubscribe", "List-Unsubscribe-Post")}
    for name, value in headers.items():
        say(f"    {name}: {value}")
    url = headers["List-Unsubscribe"].removeprefix("<").removesuffix(">")
    request = urllib.request.Request(
        url, data=ONE_CLICK, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        status = response.status
    say(f"    the mail client's one click: curl -s -X POST '{url}' -d {ONE_CLICK.decode()} → HTTP {status}")
    settings = Settings.from_env(
        {
            **os.environ,
            "SUPPRESSION_TABLE": stack.name("SuppressionTable"),
            "STREAMS_SECRET_ID": stack.name("StreamsSecret"),
        }
    )
    admin = wiring.admin_for(settings)
    address = NEWSLETTER_REQUEST["to"][0]
    states: dict[str, str | None] = {}
    for stream in ("newsletter", "transactional"):
        verdict = admin.on_stream(address, stream, settings.streams)
        states[stream] = verdict.reason.value if verdict.reason else None
        shown = f"suppressed ({states[stream]})" if verdict.suppressed else "not suppressed"
        say(f"    `ses-feedback suppressions get {address} --stream {stream}`: {shown}")
    return {"headers": headers, "text": message["text"], "status": status, "reason_on": states}


def _send(sender: Callable[[dict[str, Any], Any], Any], address: str) -> dict[str, Any]:
    request = {
        "from": SENDER,
        "to": [address],
        "subject": "Spring campaign",
        "text": "Hello from the ses-feedback demo.",
        "tags": {"campaign": "spring-demo"},
    }
    answer: dict[str, Any] = sender(request, LocalContext(function_name="SenderFunction"))
    return answer


def _drain_feedback(
    stack: LocalStack,
    handler: Callable[[dict[str, Any], Any], Any],
    expected: int,
    rows: dict[str, Row],
    say: Say,
) -> int:
    by_address = {normalize_address(a): row for a, row in rows.items()}
    applied = 0

    def observe(body: str) -> None:
        nonlocal applied
        applied += 1
        event = parse_sqs_body(body)
        for recipient in event.recipients:
            row = by_address.get(normalize_address(recipient))
            if row is None:
                continue
            if event.delivery:
                row.delivered = True
            if event.bounce:
                row.bounced = f"{event.bounce.bounce_type}/{event.bounce.bounce_sub_type}"
            if event.complaint:
                row.complained = True

    deadline = time.monotonic() + FEEDBACK_TIMEOUT
    reported = -1
    while applied < expected and time.monotonic() < deadline:
        drain(stack, handler=handler, observer=observe)
        if applied != reported:
            say(f"    feedback applied: {applied}/{expected}")
            reported = applied
        time.sleep(0.1)
    return applied


def table(result: DemoResult) -> list[str]:
    header = f"{'recipient':<42}{'round 1':<10}{'feedback':<32}{'suppressed':<20}{'round 2'}"
    lines = [header, "-" * len(header)]
    for row in result.rows:
        feedback = ", ".join(
            part
            for part in (
                "delivered" if row.delivered else "",
                f"bounced {row.bounced}" if row.bounced else "",
                "complained" if row.complained else "",
                "auto-reply" if row.auto_reply else "",
            )
            if part
        )
        suppressed = f"yes ({row.reason})" if row.suppressed else "no"
        lines.append(f"{row.recipient:<42}{row.round1:<10}{feedback or '-':<32}{suppressed:<20}{row.round2}")
    return lines


def as_json(result: DemoResult) -> str:
    return json.dumps(
        {
            "rows": [asdict(row) for row in result.rows],
            "feedback_applied": result.feedback_applied,
            "api": {"status": result.api_status, "answer": result.api_answer},
            "mailbox": result.mailbox,
            "unsubscribe": result.unsubscribe,
            "webhook": result.webhook,
        },
        indent=2,
    )
