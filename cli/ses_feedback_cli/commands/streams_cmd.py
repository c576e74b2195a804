"""`ses-feedback streams list`: the stream catalogue the preference page shows (docs/sending.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ses_feedback.errors import InvalidRequest
from ses_feedback.model.answers import StreamCatalogueAnswer
from ses_feedback.model.streams import Streams
from ses_feedback.parsing.catalogue import read_catalogue
from ses_feedback_stack.template import STREAM_CATALOGUE_PATH

from ses_feedback_cli.output import counted, error, print_json, say


def cmd_list(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        error(f"cannot read the stream catalogue {path}: {exc.strerror or exc}")
        return 2
    try:
        catalogue = read_catalogue(text)
        transactional = Streams.parse(args.transactional)
    except InvalidRequest as exc:
        error(f"{path}: {exc.message}")
        return 2
    except ValueError as exc:
        error(f"--transactional: {exc}")
        return 2
    answer = StreamCatalogueAnswer.of(catalogue, transactional)
    if args.json:
        print_json(answer.model_dump(mode="json"))
        return 0
    for stream in answer.streams:
        note = "  (transactional: not on the page)" if stream.transactional else ""
        say(f"{stream.stream:<24} {stream.title['en']}: {stream.description['en']}{note}")
        for language in sorted(set(stream.title) - {"en"}):
            title = stream.title[language]
            description = stream.description.get(language, stream.description["en"])
            say(f"{'':<24} {language}: {title}: {description}")
    say(f"{counted(len(answer.streams), 'stream', 'streams')} in {path}")
    return 0


def register(commands: Any) -> None:
    streams = commands.add_parser("streams", help="the stream catalogue the preference page shows")
    actions = streams.add_subparsers(dest="action", required=True)
    listing = actions.add_parser(
        "list", help="each bulk stream's name and description, by language, as the preference page shows them"
    )
    listing.add_argument(
        "--file",
        type=Path,
        default=STREAM_CATALOGUE_PATH,
        help="the catalogue to read (default: the one UnsubscribeFunction ships, %(default)s)",
    )
    listing.add_argument(
        "--transactional",
        default="transactional",
        metavar="NAMES",
        help="the stack's TransactionalStreams parameter, to flag catalogue entries the page leaves out "
        "(default: %(default)s)",
    )
    listing.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    listing.set_defaults(func=cmd_list)
