"""Local EventBridge: what moto's lacks for the stack's events (docs/events.md, "Locally").

Wrapped around the moto server (in its process, beside the local SES), it watches every
``PutEvents`` moto accepts and

- keeps each event, oldest first, at ``GET /_local/events`` (``ses-feedback local events``);
- delivers it as EventBridge's API destinations would: for each enabled rule of its bus whose
  pattern matches (moto's own matcher) and whose target is an API destination, a ``POST`` of the
  event's ``detail`` (the target's ``InputPath``) to the destination's URL, with the connection's
  API key header (the webhook's secret). A 5xx, a timeout or a refused connection is retried
  with backoff (``DELIVERY_BACKOFF``), as EventBridge retries; a 4xx is not. Only loopback URLs
  are called (a local stack reaches no other host); the first try goes out at once, well within
  the 2 seconds the issue allows.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from ses_feedback.parsing.webhooks import is_loopback
from ses_feedback_stack.names import LOCAL_ACCOUNT_ID

from ses_feedback_emulator.wsgi import passed_on

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

EVENTS_PATH = "/_local/events"
_RESET = "/moto-api/reset"
_PUT_EVENTS = "AWSEvents.PutEvents"
# Seconds before each retry of a delivery that failed with a 5xx or a timeout (then it is dropped).
DELIVERY_BACKOFF = (0.2, 0.5, 1.0, 2.0, 4.0)
DELIVERY_TIMEOUT = 2.0
_WORKERS = 4


class LocalEventBridge:
    def __init__(self, app: Callable[[Environ, StartResponse], Iterable[bytes]]) -> None:
        self.app = app
        self.published: list[dict[str, Any]] = []
        self.deliveries: queue.Queue[tuple[str, dict[str, str], bytes]] = queue.Queue()
        for _ in range(_WORKERS):
            threading.Thread(target=self._deliver_forever, daemon=True).start()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == _RESET:
            self.published.clear()
        if path == EVENTS_PATH:
            body = json.dumps(self.published).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        if environ.get("HTTP_X_AMZ_TARGET") != _PUT_EVENTS:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = _Body(request)
        status, answer = passed_on(self.app, environ, start_response)
        if status.startswith("200"):
            self._accepted(json.loads(request), json.loads(answer), _region(environ))
        return [answer]

    def _accepted(self, request: dict[str, Any], answer: dict[str, Any], region: str) -> None:
        for entry, result in zip(request.get("Entries", []), answer.get("Entries", []), strict=False):
            if "EventId" not in result:
                continue
            event = {
                "id": result["EventId"],
                "source": entry.get("Source"),
                "detail-type": entry.get("DetailType"),
                "detail": json.loads(entry.get("Detail") or "{}"),
                "event-bus": entry.get("EventBusName", "default"),
                "time": entry.get("Time"),
            }
            self.published.append(event)
            for url, headers in _destinations(event, region):
                self.deliveries.put((url, headers, json.dumps(event["detail"]).encode()))

    def _deliver_forever(self) -> None:
        while True:
            url, headers, body = self.deliveries.get()
            deliver(url, headers, body)


def deliver(
    url: str, headers: dict[str, str], body: bytes, sleep: Callable[[float], None] = time.sleep
) -> bool:
    """POST ``body``; retry a 5xx, a timeout or a refused connection with backoff. True: delivered."""
    if not is_loopback(urlsplit(url).hostname or ""):
        print(f"local eventbridge: {url} is not on loopback; not delivered", file=sys.stderr, flush=True)
        return False
    for pause in (0.0, *DELIVERY_BACKOFF):
        sleep(pause)
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT) as response:
                response.read()
            return True
        except urllib.error.HTTPError as refused:
            if refused.code < 500:
                return False  # EventBridge does not retry a 4xx either (but 429)
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            pass
    print(f"local eventbridge: {url} kept failing; the event is dropped", file=sys.stderr, flush=True)
    return False


def _destinations(event: dict[str, Any], region: str) -> list[tuple[str, dict[str, str]]]:
    """(URL, headers) of every API destination a rule on the event's bus sends it to."""
    from moto.events.models import events_backends

    backend = events_backends[LOCAL_ACCOUNT_ID][region]
    bus = backend.event_buses.get(event["event-bus"].rsplit("/", 1)[-1])
    found: list[tuple[str, dict[str, str]]] = []
    for rule in list(bus.rules.values()) if bus is not None else []:
        if rule.state != "ENABLED":
            continue
        if not rule.event_pattern.matches_event(event):  # type: ignore[arg-type]  # a plain dict is what it reads
            continue
        for target in rule.targets:
            arn = target["Arn"]
            if ":api-destination/" not in arn:
                continue
            name = arn.split(":api-destination/", 1)[1].split("/", 1)[0]
            destination = backend.destinations.get(name)
            if destination is None:
                continue
            connection = next(
                (c for c in backend.connections.values() if c.arn == destination.connection_arn), None
            )
            key = (connection.auth_parameters or {}).get("ApiKeyAuthParameters", {}) if connection else {}
            headers = {key["ApiKeyName"]: key["ApiKeyValue"]} if "ApiKeyName" in key else {}
            found.append((destination.invocation_endpoint, headers))
    return found


def _region(environ: Environ) -> str:
    # SigV4: Credential=KEY/DATE/REGION/SERVICE/aws4_request
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    try:
        return str(authorization.split("Credential=", 1)[1].split("/")[2])
    except IndexError:
        return "us-east-1"


class _Body:
    """The request body, read once here, for moto to read again."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size is None or size < 0 else self.position + size
        chunk, self.position = self.data[self.position : end], min(end, len(self.data))
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)
