"""`ses-feedback dmarc`: read DMARC aggregate reports, store them, and tell what they say."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ses_feedback.errors import UnreadableReport
from ses_feedback.parsing.dmarc import DEFAULT_LIMITS, read_reports

from ses_feedback_cli.output import answer_stream, error, say


def read_file(path: Path) -> bytes:
    """A file's bytes, refusing one bigger than any message SES would hand over."""
    size = path.stat().st_size
    if size > DEFAULT_LIMITS.max_input_bytes:
        raise UnreadableReport(
            f"{size} bytes is more than the {DEFAULT_LIMITS.max_input_bytes} a report may be"
        )
    return path.read_bytes()


def cmd_parse(args: argparse.Namespace) -> int:
    failed = False
    for name in args.files:
        try:
            outcome = read_reports(read_file(Path(name)))
        except (UnreadableReport, OSError) as problem:
            error(f"{name}: {problem}")
            failed = True
            continue
        for skipped in outcome.problems:
            error(f"{name}: skipped {skipped}")
        for report in outcome.reports:
            if args.json:
                print(json.dumps(report.as_json()), file=answer_stream(), flush=True)
                continue
            rate = f"{report.dmarc_pass / report.messages:.1%}" if report.messages else "-"
            org = report.org_name or "(no org_name)"
            say(
                f"{name}: {org} report {report.report_id} for {report.domain}, "
                f"{report.begin:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC: "
                f"{report.messages} message(s), {report.dmarc_pass} passed DMARC ({rate}), "
                f"{len(report.records)} record(s), p={report.policy.p}"
            )
    return 1 if failed else 0


def register(commands: Any) -> None:
    parser = commands.add_parser("dmarc", help="DMARC aggregate reports: parse, ingest, summary, report")
    dmarc = parser.add_subparsers(dest="dmarc_command", required=True)

    parse = dmarc.add_parser(
        "parse",
        help="read report files (.xml, .xml.gz, .zip, a mail message); no AWS needed",
    )
    parse.add_argument("files", nargs="+", metavar="FILE")
    parse.add_argument("--json", action="store_true", help="one JSON object per report, one per line")
    parse.set_defaults(func=cmd_parse)
