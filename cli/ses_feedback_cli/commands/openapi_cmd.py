"""`ses-feedback openapi`: the REST API's OpenAPI document, generated from the handlers."""

from __future__ import annotations

import argparse
from typing import Any

from ses_feedback_cli.output import error, say


def cmd_openapi(args: argparse.Namespace) -> int:
    from ses_feedback_cli.openapi import DOCUMENT_PATH, generate

    document = generate()
    if args.write:
        DOCUMENT_PATH.write_text(document)
        say(f"wrote {DOCUMENT_PATH.name}")
        return 0
    if args.check:
        if not DOCUMENT_PATH.is_file() or DOCUMENT_PATH.read_text() != document:
            error(f"{DOCUMENT_PATH.name} is stale: run `make openapi` and commit it")
            return 1
        say(f"{DOCUMENT_PATH.name} is up to date")
        return 0
    say(document.rstrip("\n"))
    return 0


def register(commands: Any) -> None:
    openapi = commands.add_parser(
        "openapi", help="print the REST API's OpenAPI document (merged from every API function's resolver)"
    )
    mode = openapi.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the committed document")
    mode.add_argument("--check", action="store_true", help="exit 1 if the committed document is stale")
    openapi.set_defaults(func=cmd_openapi)
