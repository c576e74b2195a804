"""`ses-feedback doctor DOMAIN`: is the domain ready for production mail through SES?"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ses_feedback_doctor.diagnose import (
    BadDoctorInput,
    DoctorRequest,
    diagnose,
    normalize_domain,
    normalize_token,
)
from ses_feedback_doctor.dns_lookup import BadNameserver, DnsLookup
from ses_feedback_doctor.model import Check, failed
from ses_feedback_stack.names import region

from ses_feedback_cli.arguments import seconds
from ses_feedback_cli.output import error, print_json, say


def cmd_doctor(args: argparse.Namespace) -> int:
    try:
        tokens = tuple(normalize_token(t) for t in args.dkim_token or ())
        if tokens and len(tokens) != 3:
            raise BadDoctorInput(f"--dkim-token: give all three Easy DKIM tokens, not {len(tokens)}")
        request = DoctorRequest(
            domain=normalize_domain(args.domain),
            region=region(),
            dns_only=args.dns_only,
            dkim_tokens=tokens,
            mail_from=args.mail_from,
            configuration_set=args.configuration_set,
            topic_arn=args.topic_arn,
            dmarc_table=None if args.dns_only else args.dmarc_table or os.environ.get("DMARC_REPORT_TABLE"),
        )
        dns = DnsLookup(nameserver=args.nameserver, timeout=args.timeout)
        checks = diagnose(request, dns)
    except (BadDoctorInput, BadNameserver) as exc:
        error(str(exc))
        return 2
    if args.json:
        print_json([check.as_dict() for check in checks])
    else:
        print_report(checks)
    return 1 if failed(checks) else 0


def print_report(checks: list[Check]) -> None:
    width = max(len(check.id) for check in checks)
    status_width = max(len(check.status.value) for check in checks)
    for check in checks:
        say(f"{check.status.value:<{status_width}}  {check.id:<{width}}  {check.detail}")
        if check.fix:
            say(f"{'':<{status_width}}  {'':<{width}}  fix: {check.fix}")


def register(commands: Any) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="check a sending domain end to end: SES identity, DKIM, MAIL FROM, SPF, DMARC, sandbox",
        description="Each check prints PASS, WARN, FAIL or UNKNOWN (it could not check: a DNS server that "
        "did not answer) and the exact record or action that fixes it. "
        "Exit status 1 when any check FAILs or is UNKNOWN.",
    )
    doctor.add_argument("domain", help="the domain you send from (the SES identity)")
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
    doctor.add_argument("--dns-only", action="store_true", help="check DNS alone; no AWS call")
    doctor.add_argument(
        "--dkim-token",
        action="append",
        metavar="TOKEN",
        help="an Easy DKIM token (three times); default: the tokens SES reports",
    )
    doctor.add_argument(
        "--nameserver",
        metavar="HOST[:PORT]",
        help="send every DNS query to this server (default: the system's)",
    )
    doctor.add_argument(
        "--mail-from", metavar="SUB", help="MAIL FROM subdomain, e.g. mail (default: SES's, else mail.DOMAIN)"
    )
    doctor.add_argument(
        "--configuration-set", help="configuration set to check (default: the identity's default one)"
    )
    doctor.add_argument(
        "--topic-arn",
        help="the feedback topic the event destination must reach (the stack's FeedbackTopicArn)",
    )
    doctor.add_argument(
        "--timeout", type=seconds(60), default=5.0, help="seconds per DNS query (default: %(default)s)"
    )
    doctor.add_argument(
        "--dmarc-table",
        help="the stack's DMARC report table (DmarcReportTableName output; default $DMARC_REPORT_TABLE): "
        "adds the dmarc.reports check",
    )
    doctor.set_defaults(func=cmd_doctor)
