"""The template's REST API over HTTP on loopback, as ``sam local start-api`` serves it, without Docker.

Routes are the ``Api`` events of the template's functions (``Path``, ``Method``, the API's
``StageName``), read through the local stack's resolver, so a new route needs no change
here. Each request becomes the API Gateway REST proxy event the function gets when
deployed: ``resource``/``path``, ``headers`` (last value) and ``multiValueHeaders``, query
parameters (decoded; single and multi-value), ``pathParameters`` (decoded; the ``path``
keeps its percent-encoding, as API Gateway's does), a body that is text, or base64 for the
API's ``BinaryMediaTypes`` (and for bytes that are not UTF-8), and a ``requestContext``
whose ``identity`` says who called:

- an unsigned request is served as a fixed local caller (``LOCAL_CALLER``), printed at start:
  the deployed API (``AWS_IAM``) would refuse it, locally it is the developer;
- a SigV4-signed one (service ``execute-api``) is checked with botocore's signer against the
  local credentials (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` of ``local up``) and
  served as its signer: the identity the local STS gives for that key. A bad signature, an
  unknown key, another region or a request older than five minutes gets API Gateway's 403.

An unknown route (or a method the path does not have) gets API Gateway's 403
``{"message":"Missing Authentication Token"}``. The function's ``statusCode``, headers and
body go back unchanged; a function error or a malformed answer is API Gateway's 502
``{"message": "Internal server error"}``; no answer within the integration timeout (29 s, or
the function's own timeout if shorter) is 504.

Concurrency, as Lambda runs it: each function's requests go to its ``FunctionPool``
(``instances``): instances that are processes of their own, each serving one request
at a time.
"""

from __future__ import annotations

import base64
import dataclasses
import fnmatch
import hmac
import json
import os
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from ses_feedback_stack.names import LOCAL_ACCOUNT_ID, LocalStack
from ses_feedback_stack.template import function_limits

from ses_feedback_emulator.instances import DEFAULT_CONCURRENCY, FunctionError, FunctionPool

DEFAULT_API_PORT = 3000
# API Gateway's limits: the integration timeout and the payload size.
INTEGRATION_TIMEOUT_SECONDS = 29.0
MAX_BODY_BYTES = 10 * 1024 * 1024
# SigV4: API Gateway refuses a request signed more than five minutes from now.
MAX_CLOCK_SKEW_SECONDS = 300
LOCAL_API_ID = "local"


# ---- who calls -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """An IAM principal as API Gateway's ``requestContext.identity`` names it."""

    user_arn: str
    user_id: str
    account_id: str = LOCAL_ACCOUNT_ID
    access_key: str | None = None

    def identity(self, source_ip: str, user_agent: str | None) -> dict[str, Any]:
        return {
            "accessKey": self.access_key,
            "accountId": self.account_id,
            "apiKey": None,
            "apiKeyId": None,
            "caller": self.user_id,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "sourceIp": source_ip,
            "user": self.user_id,
            "userAgent": user_agent,
            "userArn": self.user_arn,
        }


# Unsigned requests: a developer at their own machine.
LOCAL_CALLER = Caller(
    user_arn=f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:user/local-developer", user_id="AIDALOCALDEVELOPER0000"
)


class Refusal(Exception):
    """An answer API Gateway gives itself, without calling the function."""

    def __init__(self, status: int, message: str, error_type: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type


def missing_token() -> Refusal:
    # API Gateway's answer for a path or method the API does not have (AWS_IAM or not).
    return Refusal(403, "Missing Authentication Token", "MissingAuthenticationTokenException")


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    raw_path: str  # as sent, still percent-encoded
    raw_query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[-1] if values else None


_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]+)\s*$"
)


@dataclass
class SigV4Verifier:
    """Checks a request's SigV4 signature (service ``execute-api``) with botocore's own signer."""

    access_key: str
    secret_key: str
    signer: Caller
    region: str

    def caller(self, request: IncomingRequest, host: str, now: datetime | None = None) -> Caller:
        """The signer of ``request``, or LOCAL_CALLER when it carries no signature; else a Refusal."""
        authorization = request.header("Authorization")
        if authorization is None:
            return LOCAL_CALLER
        match = _AUTHORIZATION.match(authorization)
        if match is None:
            raise Refusal(
                403,
                "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
                "parameters (AWS4-HMAC-SHA256)",
                "IncompleteSignatureException",
            )
        key, date, scope_region, service, terminal = (match["credential"].split("/") + [""] * 5)[:5]
        if key != self.access_key:
            raise Refusal(
                403, "The security token included in the request is invalid.", "UnrecognizedClientException"
            )
        if service != "execute-api" or terminal != "aws4_request" or scope_region != self.region:
            raise Refusal(
                403,
                f"Credential should be scoped to a valid region and to service 'execute-api' "
                f"('{self.region}/execute-api/aws4_request')",
                "InvalidSignatureException",
            )
        amz_date = request.header("X-Amz-Date") or ""
        try:
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise Refusal(
                403, "Missing or malformed X-Amz-Date header", "IncompleteSignatureException"
            ) from None
        moment = now or datetime.now(UTC)
        if abs((moment - signed_at).total_seconds()) > MAX_CLOCK_SKEW_SECONDS or not amz_date.startswith(
            date
        ):
            raise Refusal(
                403,
                f"Signature expired: {amz_date} is not within five minutes of now",
                "InvalidSignatureException",
            )
        expected = self._signature(request, host, match["signed"].split(";"), amz_date)
        if not hmac.compare_digest(expected, match["signature"]):
            raise Refusal(
                403,
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. "
                "Consult the service documentation for details.",
                "InvalidSignatureException",
            )
        return self.signer

    def _signature(self, request: IncomingRequest, host: str, signed: list[str], amz_date: str) -> str:
        """What botocore's SigV4 signer computes for the request as it was sent (path and query
        as on the wire, only the signed headers), at the time it was signed."""
        headers: dict[str, str] = {}
        for name in signed:
            values = [v for k, v in request.headers if k.lower() == name]
            if name == "host" and not values:
                values = [host]
            headers[name] = ",".join(values)
        url = f"http://{host}{request.raw_path}" + (f"?{request.raw_query}" if request.raw_query else "")
        aws_request = AWSRequest(method=request.method, url=url, headers=headers, data=request.body)
        aws_request.context["timestamp"] = amz_date
        auth = SigV4Auth(Credentials(self.access_key, self.secret_key), "execute-api", self.region)
        canonical = auth.canonical_request(aws_request)
        signature: str = auth.signature(auth.string_to_sign(aws_request, canonical), aws_request)
        return signature


def local_verifier(endpoint: str, region: str) -> SigV4Verifier:
    """The local credentials, and who the local STS says they are; requests signed for ``region``."""
    access_key = os.environ.get("AWS_ACCESS_KEY_ID", "testing")
    secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY", "testing")
    identity = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
    ).get_caller_identity()
    signer = Caller(
        user_arn=identity["Arn"],
        user_id=identity["UserId"],
        account_id=identity["Account"],
        access_key=access_key,
    )
    return SigV4Verifier(access_key=access_key, secret_key=secret_key, signer=signer, region=region)


# ---- routes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST … or ANY
    resource: str  # as the template writes it: /suppressions/{address}
    function: str  # the function's logical id
    stage: str
    binary_media_types: tuple[str, ...] = ()

    @property
    def pattern(self) -> re.Pattern[str]:
        parts = []
        for segment in self.resource.strip("/").split("/"):
            greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
            single = re.fullmatch(r"\{(\w+)\}", segment)
            if greedy:
                parts.append(f"(?P<{greedy[1]}>.+)")
            elif single:
                parts.append(f"(?P<{single[1]}>[^/]+)")
            else:
                parts.append(re.escape(segment))
        return re.compile("^/" + "/".join(parts) + "$")

    @property
    def literal_segments(self) -> int:
        return sum(1 for s in self.resource.strip("/").split("/") if not s.startswith("{"))


def routes(stack: LocalStack) -> list[Route]:
    """Every ``Api`` event of the template's functions, resolved."""
    resolver = stack.resolver()
    template = stack.template
    found: list[Route] = []
    for logical_id, function in stack.resources("AWS::Serverless::Function").items():
        for event in function.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") != "Api":
                continue
            properties = event.get("Properties", {})
            api_ref = properties.get("RestApiId")
            api_id = api_ref.get("Ref") if isinstance(api_ref, dict) else None
            api = template["Resources"].get(api_id, {}).get("Properties", {}) if api_id else {}
            binary = tuple(
                str(t).replace("~1", "/") for t in resolver.resolve(api.get("BinaryMediaTypes", []))
            )
            found.append(
                Route(
                    method=str(resolver.resolve(properties["Method"])).upper(),
                    resource=str(resolver.resolve(properties["Path"])),
                    function=logical_id,
                    # SAM's implicit API (no RestApiId) deploys to a stage named Prod.
                    stage=str(resolver.resolve(api.get("StageName", "Prod"))),
                    binary_media_types=binary,
                )
            )
    return found


def match_route(table: list[Route], method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
    """The route API Gateway picks (literal segments before parameters, a method before ANY)."""
    path = raw_path if raw_path == "/" else raw_path.rstrip("/") or "/"
    candidates: list[tuple[int, int, Route, dict[str, str]]] = []
    for route in table:
        found = route.pattern.match(path)
        if found is None or route.method not in (method, "ANY"):
            continue
        parameters = {name: unquote(value) for name, value in found.groupdict().items()}
        candidates.append((route.literal_segments, route.method != "ANY", route, parameters))
    if not candidates:
        raise missing_token()
    _, _, route, parameters = max(candidates, key=lambda c: (c[0], c[1]))
    return route, parameters


# ---- the proxy event ---------------------------------------------------------------------------


def proxy_event(
    request: IncomingRequest,
    *,
    route: Route,
    path_parameters: dict[str, str],
    caller: Caller,
    request_id: str,
    now: datetime,
    host: str,
    port: int,
) -> dict[str, Any]:
    """The API Gateway REST proxy (payload 1.0) event for ``request``."""
    forwarded = [
        ("X-Forwarded-For", request.source_ip),
        ("X-Forwarded-Port", str(port)),
        ("X-Forwarded-Proto", "http"),
        ("X-Amzn-Trace-Id", f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}"),
    ]
    given = {name.lower() for name, _ in request.headers}
    all_headers = request.headers + [(n, v) for n, v in forwarded if n.lower() not in given]
    multi_headers: dict[str, list[str]] = {}
    for name, value in all_headers:
        multi_headers.setdefault(name, []).append(value)
    pairs = parse_qsl(request.raw_query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    body, is_base64 = _event_body(request, route)
    return {
        "resource": route.resource,
        "path": request.raw_path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT_ID,
            "apiId": LOCAL_API_ID,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "extendedRequestId": request_id,
            "httpMethod": request.method,
            "identity": caller.identity(request.source_ip, request.header("User-Agent")),
            "path": f"/{route.stage}{request.raw_path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": route.function,
            "resourcePath": route.resource,
            "stage": route.stage,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _event_body(request: IncomingRequest, route: Route) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    content_type = (request.header("Content-Type") or "").split(";", 1)[0].strip().lower()
    binary = any(fnmatch.fnmatch(content_type, t.lower()) for t in route.binary_media_types)
    if not binary:
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass  # API Gateway would mangle it; pass it intact rather than rewrite it
    return base64.b64encode(request.body).decode("ascii"), True


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def http_answer(result: Any) -> HttpAnswer:
    """The function's proxy answer as HTTP; anything else is API Gateway's 502."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        raise Refusal(502, "Internal server error", "")
    headers: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    for name, value in (result.get("headers") or {}).items():
        if name not in multi:
            headers.append((name, str(value)))
    for name, values in multi.items():
        headers.extend((name, str(v)) for v in values)
    body = result.get("body") or ""
    if not isinstance(body, str):
        raise Refusal(502, "Internal server error", "")
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    return HttpAnswer(result["statusCode"], headers, raw)


# ---- the HTTP server ---------------------------------------------------------------------------


class LocalApi:
    """The REST API on ``host:port``; ``start()`` serves in a thread, ``stop()`` ends it."""

    def __init__(
        self,
        stack: LocalStack,
        verifier: SigV4Verifier,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_API_PORT,
        concurrency: int = DEFAULT_CONCURRENCY,
        quiet: bool = False,
    ) -> None:
        self.routes = routes(stack)
        self.verifier = verifier
        self.quiet = quiet
        self.concurrency = concurrency
        self.server = _Server((host, port), _handler_class(self))
        # Bulk mail's unsubscribe links point at this API, on the host and port it really
        # listens on (a free port, `--api-port`), as UnsubscribeBaseUrl does when deployed.
        stack = dataclasses.replace(stack, parameters={**stack.parameters, "UnsubscribeBaseUrl": self.url})
        # API Gateway gives up after 29 s, or sooner when the function's own timeout is shorter.
        self.pools = {
            logical_id: FunctionPool(
                stack,
                logical_id,
                concurrency=concurrency,
                quiet=quiet,
                timeout=min(INTEGRATION_TIMEOUT_SECONDS, function_limits(stack.template, logical_id)[0]),
            )
            for logical_id in sorted({r.function for r in self.routes})
        }
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        host = str(self.server.server_address[0])
        return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="local-api", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for pool in self.pools.values():
            pool.close()

    def answer(self, request: IncomingRequest, host: str) -> HttpAnswer:
        request_id = str(uuid.uuid4())
        try:
            route, parameters = match_route(self.routes, request.method, request.raw_path)
            caller = self.verifier.caller(request, host)
            event = proxy_event(
                request,
                route=route,
                path_parameters=parameters,
                caller=caller,
                request_id=request_id,
                now=datetime.now(UTC),
                host=host,
                port=self.port,
            )
            try:
                result = self.pools[route.function].invoke(event, request_id)
            except FunctionError as exc:
                print(f"local api: {route.function} failed: {exc}", file=sys.stderr)
                raise Refusal(502, "Internal server error", "") from None
            except TimeoutError as exc:
                print(f"local api: {exc}", file=sys.stderr)
                raise Refusal(504, "Endpoint request timed out", "") from None
            answer = http_answer(result)
        except Refusal as refusal:
            headers = [("Content-Type", "application/json")]
            if refusal.error_type:
                headers.append(("x-amzn-ErrorType", refusal.error_type))
            answer = HttpAnswer(refusal.status, headers, json.dumps({"message": refusal.message}).encode())
        return HttpAnswer(answer.status, [*answer.headers, ("x-amzn-RequestId", request_id)], answer.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: a burst of connections beyond it is reset.
    request_queue_size = 128


def _handler_class(api: LocalApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway
        # Headers and body leave in two writes: with Nagle's algorithm the body would wait
        # for the client's delayed ACK (40 ms on Linux) on every keep-alive request.
        disable_nagle_algorithm = True
        server_version = "ses-feedback-local-api"

        def _serve(self) -> None:
            try:
                body = self._read_body()
            except Refusal as refusal:
                self.close_connection = True
                self._write(
                    HttpAnswer(
                        refusal.status,
                        [("Content-Type", "application/json")],
                        json.dumps({"message": refusal.message}).encode(),
                    )
                )
                return
            raw_path, _, raw_query = self.path.partition("?")
            request = IncomingRequest(
                method=self.command,
                raw_path=raw_path,
                raw_query=raw_query,
                headers=[(name, value) for name, value in self.headers.items()],
                body=body,
                source_ip=self.client_address[0],
            )
            self._write(api.answer(request, self.headers.get("Host") or f"127.0.0.1:{api.port}"))

        def _read_body(self) -> bytes:
            if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
                chunks: list[bytes] = []
                size = 0
                while True:
                    length = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                    if length == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    size += length
                    if size > MAX_BODY_BYTES:
                        raise Refusal(413, "Request Too Long", "")
                    chunks.append(self.rfile.read(length))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                raise Refusal(413, "Request Too Long", "")
            return self.rfile.read(length) if length else b""

        def _write(self, answer: HttpAnswer) -> None:
            self.send_response(answer.status)
            for name, value in answer.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, QUERY...): API Gateway answers it itself (403), never 501.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            if not api.quiet:
                line = loggable_request(format % args)
                sys.stderr.write(f"{time.strftime('%H:%M:%S')} api {line}\n")

    return Handler


# A path segment that is a word of the API (suppressions, events, unsubscribe) is kept; any
# other (an address; an unsubscribe token, which unsubscribes whoever holds it) is not logged, nor is a query.
_API_WORD = re.compile(r"^[a-z][a-z.-]*$")


def loggable_request(line: str) -> str:
    """A request line for the log, without addresses, tokens or query values in it."""
    parts = line.split(" ")
    for index, part in enumerate(parts):
        if part.startswith("/"):
            path = part.split("?", 1)[0]
            parts[index] = "/".join(s if not s or _API_WORD.match(s) else "…" for s in path.split("/"))
    return " ".join(parts)
