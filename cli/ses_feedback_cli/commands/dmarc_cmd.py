"""`ses-feedback dmarc`: read DMARC aggregate reports, store them, and tell what they say."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ses_feedback import wiring
from ses_feedback.errors import UnreadableReport
from ses_feedback.model.moments import iso_z
from ses_feedback.parsing.dmarc import DEFAULT_LIMITS, read_reports
from ses_feedback.rules.dmarc import DmarcSummary, OwnSending
from ses_feedback.usecases.dmarc import DmarcReports
from ses_feedback_stack.names import LocalStack

from ses_feedback_cli.commands.stats_cmd import parse_since
from ses_feedback_cli.output import answer_stream, error, print_json, say


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
        for note in outcome.notes:
            print(f"note: {name}: {note}", file=sys.stderr, flush=True)
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


def cmd_ingest(args: argparse.Namespace) -> int:
    from ses_feedback_emulator.dmarc import ingest

    stack = LocalStack(prefix=args.prefix)
    failed = False
    for name in args.files:
        path = Path(name)
        try:
            outcome = ingest(stack, path, read_file(path))
        except (UnreadableReport, OSError) as problem:
            error(f"{name}: {problem}")
            failed = True
            continue
        read_some = bool(outcome["stored"] or outcome["duplicates"])
        if outcome["rejected_to"]:
            failed = True
            if not args.json:  # under --json the file's line says it: rejected_to and reason
                where = "a copy set aside as" if read_some else "moved to"
                error(f"{name}: {outcome['reason']} ({where} {outcome['rejected_to']})")
        if args.json:
            print(json.dumps({"file": name, **outcome}), file=answer_stream(), flush=True)
        elif read_some or not outcome["rejected_to"]:
            say(f"{name}: {outcome['stored']} report(s) stored, {outcome['duplicates']} already stored")
    return 1 if failed else 0


def dmarc_use_case(args: argparse.Namespace) -> DmarcReports:
    """The use case on --table, else $DMARC_REPORT_TABLE, else the local stack's table."""
    table = args.table or os.environ.get("DMARC_REPORT_TABLE")
    if not table:
        table = LocalStack(prefix=args.prefix).resolver().refs["DmarcReportTable"]
    return wiring.dmarc_reports_for(table)


def own_sending(args: argparse.Namespace, domain: str) -> OwnSending:
    """This stack's MAIL FROM domain: --mail-from-domain, else the template's MailFromSubdomain."""
    mail_from = args.mail_from_domain
    if not mail_from:
        subdomain = LocalStack(prefix=args.prefix).resolver().parameter("MailFromSubdomain")
        mail_from = f"{subdomain}.{domain}"
    return OwnSending(domain=domain.lower(), mail_from_domain=mail_from.lower())


def read_summary(args: argparse.Namespace) -> DmarcSummary:
    return dmarc_use_case(args).summary(args.domain, own_sending(args, args.domain), args.since)


def cmd_summary(args: argparse.Namespace) -> int:
    summary = read_summary(args)
    if args.json:
        print_json({"since": iso_z(args.since), **summary.as_dict()})
        return 0
    rate = f"{summary.pass_rate:.1%}" if summary.pass_rate is not None else "-"
    say(
        f"{summary.domain} since {iso_z(args.since)}: {summary.reports} report(s), "
        f"{summary.messages} message(s), {summary.passed} passed DMARC ({rate}); "
        f"published p={summary.published_policy or '-'}"
    )
    verdict = summary.verdict
    say(f"verdict: p={verdict.policy}: {verdict.reason}")
    if verdict.fix_first:
        say("fix first: " + ", ".join(verdict.fix_first))
    if summary.sources:
        say(f"{'source':<40} {'messages':>9} {'passed':>9}  own  SPF domains / DKIM domains / reporters")
    for source in summary.sources:
        own = "yes" if source.own else "no"
        spf = ",".join(sorted(source.spf_domains)) or "-"
        dkim = ",".join(sorted(source.dkim_domains)) or "-"
        reporters = ",".join(sorted(source.reporters))
        say(
            f"{source.source_ip:<40} {source.messages:>9} {source.passed:>9}  {own:<4} "
            f"{spf} / {dkim} / {reporters}"
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ses_feedback_cli.dmarc_html import render

    summary = read_summary(args)
    try:
        Path(args.html).write_text(render(summary, args.since, datetime.now(UTC)), encoding="utf-8")
    except OSError as exc:
        error(f"--html {args.html}: {exc.strerror or exc}")
        return 2
    say(f"wrote {args.html}: {summary.reports} report(s), {summary.messages} message(s)")
    return 0


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("domain", metavar="DOMAIN")
    parser.add_argument(
        "--since",
        type=lambda text: parse_since(text, datetime.now(UTC)),
        default="30d",
        help="reports that began since: 30d (default), 24h, or an ISO date",
    )
    parser.add_argument("--table", help="report table (default: $DMARC_REPORT_TABLE, else the local stack's)")
    parser.add_argument(
        "--mail-from-domain", help="this stack's MAIL FROM domain (default: MailFromSubdomain.DOMAIN)"
    )


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

    ingest = dmarc.add_parser(
        "ingest", help="local mode: deliver report files to the local stack as SES would, and store them"
    )
    ingest.add_argument("files", nargs="+", metavar="FILE")
    ingest.add_argument("--json", action="store_true", help="one JSON object per file")
    ingest.set_defaults(func=cmd_ingest)

    summary = dmarc.add_parser(
        "summary", help="messages, pass rate, sources, and which DMARC policy the reports support"
    )
    _add_store_options(summary)
    summary.add_argument("--json", action="store_true", help="print JSON")
    summary.set_defaults(func=cmd_summary)

    report = dmarc.add_parser("report", help="one self-contained HTML page: daily pass rate, failing sources")
    _add_store_options(report)
    report.add_argument("--html", required=True, metavar="FILE", help="where to write the page")
    report.set_defaults(func=cmd_report)
