"""The REST API's OpenAPI document, merged from every function behind ``RestApi``.

Every function in template.yaml with an ``Api`` event on ``RestApi`` contributes the
Powertools resolver of its handler module (``app``); Powertools' ``OpenAPIMerge`` joins them,
so a second API function needs no change here. The document is committed in the layer
(``layers/common/ses_feedback/openapi.json``), which SenderFunction serves at
``GET /openapi.json``; ``ses-feedback openapi --write`` (``make openapi``) regenerates it and
a test fails when the committed copy is stale.
"""

from __future__ import annotations

import json
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from ses_feedback_stack.template import REPO_ROOT, function_source, functions, load_template

API_LOGICAL_ID = "RestApi"
DOCUMENT_PATH = REPO_ROOT / "layers" / "common" / "ses_feedback" / "openapi.json"

# API Gateway checks an AWS Signature Version 4 on every route (AWS_IAM authorisation).
SIGV4 = {
    "type": "apiKey",
    "name": "Authorization",
    "in": "header",
    "description": "AWS Signature Version 4; the caller needs execute-api:Invoke on the route",
    "x-amazon-apigateway-authtype": "awsSigv4",
}


def api_functions(template: dict[str, Any]) -> list[str]:
    """Logical IDs of the functions with at least one route on the REST API, in template order."""
    found = []
    for logical_id, resource in functions(template).items():
        for event in resource["Properties"].get("Events", {}).values():
            if event.get("Type") == "Api" and event["Properties"].get("RestApiId") == {"Ref": API_LOGICAL_ID}:
                found.append(logical_id)
                break
    return found


def handler_files(template: dict[str, Any]) -> list[Path]:
    files = []
    for logical_id in api_functions(template):
        code_dir, module, _ = function_source(template, logical_id)
        files.append(code_dir / f"{module}.py")
    return files


def generate(template: dict[str, Any] | None = None) -> str:
    """The merged document as the JSON text that is committed (ends with a newline)."""
    template = template or load_template()
    merge = OpenAPIMerge(
        title="ses-feedback",
        version=version("ses-feedback"),
        description="Suppression-aware sending through Amazon SES. Every route is IAM-signed (SigV4), "
        "except the public one-click unsubscribe routes.",
        security_schemes={"sigv4": SIGV4},  # type: ignore[dict-item]  # Powertools validates the dict itself
        security=[{"sigv4": []}],
        on_conflict="error",
    )
    for path in handler_files(template):
        merge.add_file(path)
    with warnings.catch_warnings():
        # A handler that fails to import must fail the generation, not leave a route out.
        warnings.simplefilter("error")
        # Through Powertools' own serialiser: query and path parameters carry enum members
        # (ParameterInType) that json.dumps cannot write.
        document = json.loads(merge.get_openapi_json_schema())
    document = _public_routes_unsigned(_without_validation_422(document), template)
    return json.dumps(_without_unused_schemas(document), indent=2, ensure_ascii=False) + "\n"


def _public_routes_unsigned(document: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    """Routes the template opens to everyone (``Auth: Authorizer: NONE``) need no signature."""
    for resource in functions(template).values():
        for event in resource["Properties"].get("Events", {}).values():
            properties = event.get("Properties", {})
            if event.get("Type") == "Api" and properties.get("Auth", {}).get("Authorizer") == "NONE":
                operation = document["paths"].get(properties["Path"], {}).get(properties["Method"].lower())
                if operation is not None:
                    operation["security"] = []
    return document


def _without_validation_422(document: dict[str, Any]) -> dict[str, Any]:
    """Drop the 422 that Powertools adds to every validated route: every API function here
    answers an invalid request with 400 and an ErrorAnswer (a route's own 422 stays)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            schema = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
    return document


def _without_unused_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """Drop the component schemas no route refers to (Powertools' own 422 validation error:
    this API answers 400 with an ErrorAnswer instead)."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    while True:
        text = json.dumps({k: v for k, v in document.items() if k != "components"}) + json.dumps(
            {name: schema for name, schema in schemas.items()}
        )
        unused = [name for name in schemas if f'"#/components/schemas/{name}"' not in text]
        if not unused:
            return document
        for name in unused:
            del schemas[name]


def write(path: Path = DOCUMENT_PATH) -> Path:
    path.write_text(generate())
    return path
