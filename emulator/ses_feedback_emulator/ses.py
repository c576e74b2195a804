"""SES event publishing for local mode, as a WSGI layer around moto (see motoserver.py)."""

from __future__ import annotations

import io
import json
import os
import queue
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

import boto3
from botocore.exceptions import ClientError

from ses_feedback_emulator.mail import accepted_message
from ses_feedback_emulator.simulator import (
    AutoReply,
    SentMessage,
    auto_replies,
    notifications,
    rendering_failure,
)
from ses_feedback_emulator.templates import RenderingFailure, Template
from ses_feedback_emulator.wsgi import passed_on

StartResponse = Callable[..., Any]
Environ = dict[str, Any]

_DESTINATIONS = re.compile(r"^/v2/email/configuration-sets/(?P<name>[^/]+)/event-destinations/?$")
_SEND = "/v2/email/outbound-emails"
_SUPPRESSED = re.compile(r"^/v2/email/suppression/addresses(?:/(?P<address>[^/]+))?/?$")
_IDENTITY = re.compile(r"^/v2/email/identities/(?P<identity>[^/]+)/?$")
_MAIL_FROM = re.compile(r"^/v2/email/identities/(?P<identity>[^/]+)/mail-from/?$")
_TEMPLATES = re.compile(r"^/v2/email/templates(?:/(?P<name>[^/]+))?/?$")
_ACCOUNT = "/v2/email/account"
_ACCOUNT_DETAILS = "/v2/email/account/details"
_MAILBOX = "/_local/mailbox"
_MESSAGES = "/_local/messages"
# GET: the local SES's quota and the rate it holds senders to; POST: change them (tests).
SEND_QUOTA = "/_local/send-quota"
# What a new production account gets; without --max-send-rate the local SES throttles nobody.
DEFAULT_MAX_SEND_RATE = 14.0
DEFAULT_MAX_24_HOUR_SEND = 50000.0
# What `local up` records of each stack it serves (state.py), per region and prefix: its REST
# API's address and the stack's parameters.
_STACKS = re.compile(r"^/_local/stacks/(?P<region>[^/]+)/(?P<prefix>[^/]+)/?$")
# Which process serves here: `motoserver.start` waits for its own child, not whatever answers.
SERVER_PID = "/_local/pid"
_RESET = "/moto-api/reset"
# SES v2's names for the event types an event destination matches.
_V2_TYPE = {
    "Send": "SEND",
    "Reject": "REJECT",
    "Bounce": "BOUNCE",
    "Complaint": "COMPLAINT",
    "Delivery": "DELIVERY",
    "DeliveryDelay": "DELIVERY_DELAY",
    "Open": "OPEN",
    "Click": "CLICK",
    "Rendering Failure": "RENDERING_FAILURE",
    "Subscription": "SUBSCRIPTION",
}


@dataclass
class SendQuota:
    """The account's quota as GetAccount reports it, and the rate SendEmail is held to.

    ``enforced_rate`` is ``max_send_rate`` unless a test sets it lower (SES throttling below
    what GetAccount said); None throttles nobody.
    """

    max_send_rate: float = DEFAULT_MAX_SEND_RATE
    max_24_hour_send: float = DEFAULT_MAX_24_HOUR_SEND
    enforced_rate: float | None = None
    throttled: int = 0  # SendEmail requests answered Throttling so far


class LocalSes:
    def __init__(
        self,
        app: Callable[[Environ, StartResponse], Iterable[bytes]],
        endpoint: str,
        max_send_rate: float | None = None,
    ) -> None:
        self.app = app
        self.endpoint = endpoint
        # What the server was started with; a reset (and a test's change) goes back to it.
        self.started_quota = SendQuota(
            max_send_rate=max_send_rate or DEFAULT_MAX_SEND_RATE, enforced_rate=max_send_rate
        )
        self.quota = SendQuota(**asdict(self.started_quota))
        # When each of the last second's accepted messages was accepted (time.time()).
        self.recent: deque[float] = deque()
        # SES is regional, and so is all it keeps here: (region, configuration set) → name → destination.
        self.destinations: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self.mailbox: list[AutoReply] = []
        # Every message SendEmail accepted, oldest first (`ses-feedback local mailbox`).
        self.messages: list[dict[str, Any]] = []
        # SES's account-level suppression list, one per region (moto has none):
        # region → address → reason, time.
        self.suppressed: dict[str, dict[str, tuple[str, float]]] = {}
        # Each identity's custom MAIL FROM (moto has none): (region, identity) → MailFromAttributes.
        self.mail_from: dict[tuple[str, str], dict[str, str]] = {}
        # SES v2 email templates (moto has none): name → template, and when each was created.
        self.templates: dict[str, tuple[Template, float]] = {}
        # Each served stack's record ((region, prefix) → {"api_url": …, "parameters": …}), as
        # `local up` put it.
        self.stacks: dict[tuple[str, str], dict[str, Any]] = {}
        # The last PutAccountDetails (production-access --submit), as GetAccount's Details.
        self.account_details: dict[str, Any] | None = None
        # One worker publishes in order, after the request that caused it has been answered
        # (this server answers one request at a time).
        self.outbox: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        threading.Thread(target=self._publish_forever, daemon=True).start()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == _RESET:
            # moto's reset forgets every resource; what SES keeps here goes with it.
            self.destinations.clear()
            self.mailbox.clear()
            self.messages.clear()
            self.suppressed.clear()
            self.mail_from.clear()
            self.stacks.clear()
            self.templates.clear()
            self.account_details = None
            self.recent.clear()
            self.quota = SendQuota(**asdict(self.started_quota))
        if path == _MAILBOX:
            return _json(start_response, [asdict(reply) for reply in self.mailbox])
        if path == _MESSAGES:
            return _json(start_response, self.messages)
        if path == SERVER_PID:
            return _json(start_response, {"pid": os.getpid()})
        if path == SEND_QUOTA:
            if method == "POST":
                changes = json.loads(_read_body(environ) or b"{}")
                self.quota = SendQuota(**{**asdict(self.quota), **changes})
            return _json(start_response, asdict(self.quota))
        stack = _STACKS.match(path)
        if stack:
            key = (unquote(stack["region"]), unquote(stack["prefix"]))
            return self._stack_record(key, method, environ, start_response)
        match = _DESTINATIONS.match(path)
        if match:
            return self._event_destinations(
                (_signed_region(environ), match["name"]), method, _read_body(environ), start_response
            )
        suppressed = _SUPPRESSED.match(path)
        if suppressed:
            return self._suppression_list(environ, suppressed["address"], method, start_response)
        templates = _TEMPLATES.match(path)
        if templates:
            name = unquote(templates["name"]) if templates["name"] else None
            return self._templates(name, method, _read_body(environ), start_response)
        if path == _SEND and method == "POST":
            return self._send(environ, start_response)
        if path == _ACCOUNT and method == "GET":
            return self._account(start_response)
        if path == _ACCOUNT_DETAILS and method == "POST":
            self.account_details = json.loads(_read_body(environ) or b"{}")
            return _json(start_response, {})
        mail_from = _MAIL_FROM.match(path)
        if mail_from and method == "PUT":
            request = json.loads(_read_body(environ) or b"{}")
            self.mail_from[(_signed_region(environ), unquote(mail_from["identity"]))] = {
                "MailFromDomain": request["MailFromDomain"],
                # Local mode has no DNS to wait for: SES's status once it sees the MX.
                "MailFromDomainStatus": "SUCCESS",
                "BehaviorOnMxFailure": request.get("BehaviorOnMxFailure", "USE_DEFAULT_VALUE"),
            }
            return _json(start_response, {})
        identity = _IDENTITY.match(path)
        if identity and method == "GET":
            return self._identity(unquote(identity["identity"]), environ, start_response)
        return self.app(environ, start_response)

    def _stack_record(
        self, key: tuple[str, str], method: str, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        if method == "PUT":
            record = json.loads(_read_body(environ) or b"{}")
            self.stacks[key] = record if isinstance(record, dict) else {}
            return _json(start_response, {})
        if key not in self.stacks:
            message = f"no local up serves {key[1]} in {key[0]}"
            return _json(start_response, {"message": message}, status="404 Not Found")
        return _json(start_response, self.stacks[key])

    # ---- email templates (SES v2 *EmailTemplate*; moto has none) --------------------------------

    def _templates(
        self, name: str | None, method: str, body: bytes, start_response: StartResponse
    ) -> Iterable[bytes]:
        if name is None and method == "GET":
            listed = [
                {"TemplateName": known, "CreatedTimestamp": created}
                for known, (_, created) in sorted(self.templates.items())
            ]
            return _json(start_response, {"TemplatesMetadata": listed})
        if method in ("POST", "PUT"):
            try:
                request = json.loads(body or b"{}")
                wanted = name if name is not None else request.get("TemplateName")
                template = Template.of(wanted, request.get("TemplateContent"))
            except (ValueError, AttributeError) as exc:
                return _refusal(start_response, "400 Bad Request", "BadRequestException", str(exc))
            if method == "POST" and name is None:
                if template.name in self.templates:
                    return _refusal(
                        start_response,
                        "400 Bad Request",
                        "AlreadyExistsException",
                        f"Template {template.name} already exists.",
                    )
                self.templates[template.name] = (template, time.time())
                return _json(start_response, {})
            if method == "PUT" and template.name in self.templates:
                self.templates[template.name] = (template, self.templates[template.name][1])
                return _json(start_response, {})
        if name is None or name not in self.templates:
            return _refusal(
                start_response, "404 Not Found", "NotFoundException", f"Template {name} does not exist."
            )
        if method == "DELETE":
            del self.templates[name]
            return _json(start_response, {})
        template, _ = self.templates[name]
        return _json(start_response, {"TemplateName": name, "TemplateContent": template.as_content()})

    # ---- the account and the sending identity, as doctor and production-access read them -----

    def _account(self, start_response: StartResponse) -> Iterable[bytes]:
        """An account that sends to anyone, as moto does: production access, not the sandbox; its
        quota is the local SES's (``local up --max-send-rate``)."""
        day_ago = datetime.now(UTC).timestamp() - 24 * 3600
        sent = sum(1 for m in self.messages if _epoch(m.get("accepted_at")) >= day_ago)
        account: dict[str, Any] = {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
            "ProductionAccessEnabled": True,
            "SendingEnabled": True,
            # A new production account's quota.
            "SendQuota": {
                "Max24HourSend": self.quota.max_24_hour_send,
                "MaxSendRate": self.quota.max_send_rate,
                "SentLast24Hours": float(sent),
            },
        }
        if self.account_details is not None:
            details = {k: v for k, v in self.account_details.items() if k != "ProductionAccessEnabled"}
            account["Details"] = {**details, "ReviewDetails": {"Status": "GRANTED"}}
        return _json(start_response, account)

    def _identity(self, name: str, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """moto's answer, with what it leaves out: a verified identity may send (moto says it may
        not), and the identity's MAIL FROM."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers)

        response = b"".join(self.app(environ, capture))
        if not captured.get("status", "").startswith("200"):
            start_response(captured["status"], captured["headers"])
            return [response]
        answer = json.loads(response)
        answer["VerifiedForSendingStatus"] = answer.get("VerificationStatus") == "SUCCESS"
        if (_signed_region(environ), name) in self.mail_from:
            answer["MailFromAttributes"] = self.mail_from[(_signed_region(environ), name)]
        return _json(start_response, answer)

    # ---- configuration-set event destinations (moto has none) -----------------------------

    def _event_destinations(
        self, config_set: tuple[str, str], method: str, body: bytes, start_response: StartResponse
    ) -> Iterable[bytes]:
        destinations = self.destinations.setdefault(config_set, {})
        if method == "POST":
            request = json.loads(body or b"{}")
            destinations[request["EventDestinationName"]] = request["EventDestination"]
            return _json(start_response, {})
        listed = [{"Name": name, **definition} for name, definition in destinations.items()]
        return _json(start_response, {"EventDestinations": listed})

    # ---- the account-level suppression list (SES v2 *SuppressedDestination*) -------------

    def _suppression_list(
        self, environ: Environ, address: str | None, method: str, start_response: StartResponse
    ) -> Iterable[bytes]:
        suppressed = self.suppressed.setdefault(_signed_region(environ), {})
        if address is None and method == "PUT":
            request = json.loads(_read_body(environ) or b"{}")
            suppressed[request["EmailAddress"].lower()] = (request["Reason"], time.time())
            return _json(start_response, {})
        if address is None:
            # One page: the local list is small (SES pages at 1,000).
            query = parse_qs(environ.get("QUERY_STRING", ""))
            reasons = set(query.get("Reason", [])) or {"BOUNCE", "COMPLAINT"}
            summaries = [
                {"EmailAddress": a, "Reason": reason, "LastUpdateTime": at}
                for a, (reason, at) in suppressed.items()
                if reason in reasons
            ]
            return _json(start_response, {"SuppressedDestinationSummaries": summaries})
        address = unquote(address).lower()
        if address not in suppressed:
            return _json(
                start_response,
                {"message": f"Email address {address} does not exist on your suppression list."},
                status="404 Not Found",
                error_type="NotFoundException",
            )
        if method == "DELETE":
            del suppressed[address]
            return _json(start_response, {})
        reason, at = suppressed[address]
        return _json(
            start_response,
            {"SuppressedDestination": {"EmailAddress": address, "Reason": reason, "LastUpdateTime": at}},
        )

    # ---- SendEmail: let moto accept it, then publish what SES would ----------------------

    def _send(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        body = _read_body(environ)
        if self._over_rate(time.time()):
            self.quota.throttled += 1
            # SES's answer above MaxSendRate. This server answers one request at a time, so no
            # second (any second, not only a calendar one) holds more than the rate.
            return _json(
                start_response,
                {"message": "Maximum sending rate exceeded."},
                status="400 Bad Request",
                error_type="Throttling",
            )
        request = json.loads(body or b"{}")
        content = request.get("Content", {})
        failure: tuple[str, str] | None = None
        if "Template" in content:
            # moto cannot send a template: render it here and hand moto the simple message.
            chosen = content["Template"]
            name = str(chosen.get("TemplateName") or str(chosen.get("TemplateArn", "")).rpartition("/")[2])
            if name not in self.templates:
                return _refusal(
                    start_response, "404 Not Found", "NotFoundException", f"Template {name} does not exist."
                )
            simple: dict[str, Any] = {"Headers": chosen["Headers"]} if chosen.get("Headers") else {}
            try:
                subject, text, html = self.templates[name][0].render(chosen.get("TemplateData"))
            except RenderingFailure as exc:
                # SES accepts the call and publishes a Rendering Failure; nobody gets the mail.
                failure = (name, str(exc))
                subject, text, html = f"(template {name}: rendering failed)", str(exc), None
            simple["Subject"] = {"Data": subject}
            simple["Body"] = {
                part: {"Data": value} for part, value in (("Text", text), ("Html", html)) if value is not None
            }
            request["Content"] = {"Simple": simple, "Template": chosen}
            body = json.dumps({**request, "Content": {"Simple": simple}}).encode()
            environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        status, response = passed_on(self.app, environ, start_response)
        if status.startswith("200"):
            accepted = time.time()
            self.recent.append(accepted)
            message_id = json.loads(response)["MessageId"]
            self._after_send(
                request, message_id, _signed_region(environ), failure, datetime.fromtimestamp(accepted, UTC)
            )
        return [response]

    def _over_rate(self, now: float) -> bool:
        while self.recent and self.recent[0] <= now - 1.0:
            self.recent.popleft()
        rate = self.quota.enforced_rate
        return rate is not None and len(self.recent) >= rate

    def _after_send(
        self,
        request: dict[str, Any],
        message_id: str,
        region: str,
        failure: tuple[str, str] | None = None,
        accepted: datetime | None = None,
    ) -> None:
        accepted = accepted or datetime.now(UTC)
        destination = request.get("Destination", {})
        simple = request.get("Content", {}).get("Simple", {})
        message = SentMessage(
            message_id=message_id,
            source=request.get("FromEmailAddress", ""),
            to=destination.get("ToAddresses", []),
            cc=destination.get("CcAddresses", []),
            bcc=destination.get("BccAddresses", []),
            subject=simple.get("Subject", {}).get("Data"),
            tags={t["Name"]: t["Value"] for t in request.get("EmailTags", [])},
            configuration_set=request.get("ConfigurationSetName"),
            region=region,
        )
        if failure is not None:
            print(
                f"local ses: template {failure[0]} did not render: {failure[1]}", file=sys.stderr, flush=True
            )
            events = rendering_failure(message, datetime.now(UTC), *failure)
        else:
            self.messages.append(accepted_message(request, message_id, accepted, region).as_json())
            self.mailbox.extend(auto_replies(message))
            events = notifications(message, datetime.now(UTC))
        if not message.configuration_set:
            return  # SES publishes events only for mail sent with a configuration set
        for event in events:
            for definition in self.destinations.get((region, message.configuration_set), {}).values():
                matches = _V2_TYPE[event["eventType"]] in definition.get("MatchingEventTypes", [])
                topic = definition.get("SnsDestination", {}).get("TopicArn")
                if definition.get("Enabled", True) and matches and topic:
                    self.outbox.put((topic, event))

    def _publish_forever(self) -> None:
        clients: dict[str, Any] = {}  # region → SNS client: each region publishes to its own topics
        while True:
            topic, event = self.outbox.get()
            region = topic.split(":")[3]
            if region not in clients:
                clients[region] = boto3.client("sns", endpoint_url=self.endpoint, region_name=region)
            try:
                clients[region].publish(
                    TopicArn=topic,
                    Message=json.dumps(event) + "\n",
                    Subject="Amazon SES Email Event Notification",
                )
            except ClientError as exc:
                # The topic went away (moto reset it, or it was deleted): SES drops the event
                # too. This worker must live on, or no event would ever be published again.
                code = exc.response.get("Error", {}).get("Code", "")
                print(f"local ses: event not published to {topic} ({code})", file=sys.stderr, flush=True)


def _signed_region(environ: Environ) -> str:
    """The region of the request's SigV4 credential scope (``Credential=KEY/DATE/REGION/…``)."""
    scope = re.search(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return scope[1] if scope else "us-east-1"


def _epoch(iso: str | None) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() if iso else 0.0


def _read_body(environ: Environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def _refusal(start_response: StartResponse, status: str, error_type: str, message: str) -> list[bytes]:
    return _json(start_response, {"message": message}, status=status, error_type=error_type)


def _json(
    start_response: StartResponse, value: Any, status: str = "200 OK", error_type: str | None = None
) -> list[bytes]:
    body = json.dumps(value).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    start_response(status, headers)
    return [body]
