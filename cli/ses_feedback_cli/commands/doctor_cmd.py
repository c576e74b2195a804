"""`ses-feedback doctor DOMAIN`: is the domain ready for production mail through SES?"""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Any

from ses_feedback import wiring
from ses_feedback_doctor.diagnose import (
    BadDoctorInput,
    DoctorRequest,
    diagnose,
    normalize_domain,
    normalize_token,
)
from ses_feedback_doctor.dns_lookup import BadNameserver, DnsLookup
from ses_feedback_doctor.model import Check, Status, failed
from ses_feedback_doctor.regions import RegionReport, check_regions, verdict
from ses_feedback_stack.names import region

from ses_feedback_cli.arguments import seconds
from ses_feedback_cli.deployment import NoSuchStack, add_region_options, all_regions
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
        if args.all_regions or args.regions:
            return _every_region(args, request, dns)
        checks = diagnose(request, dns)
    except (BadDoctorInput, BadNameserver, NoSuchStack) as exc:
        error(str(exc))
        return 2
    if args.json:
        print_json([check.as_dict() for check in checks])
    else:
        print_report(checks)
    return 1 if failed(checks) else 0


def _every_region(args: argparse.Namespace, request: DoctorRequest, dns: DnsLookup) -> int:
    """--all-regions: every check in each region of the deployment, a table and one verdict."""
    if not args.all_regions:
        raise BadDoctorInput("--regions: only with --all-regions")
    # Each region has its own Easy DKIM tokens and its own feedback topic: read from each.
    for option, given in (("--dkim-token", request.dkim_tokens), ("--topic-arn", request.topic_arn)):
        if given:
            raise BadDoctorInput(
                f"{option}: not with --all-regions (each region has its own; SES and the stacks say)"
            )
    regions = all_regions(args, whose="check")

    def check(name: str) -> list[Check]:
        # The DMARC reports are the domain's, kept at home: checked once, with the first region.
        here = dataclasses.replace(
            request, region=name, dmarc_table=request.dmarc_table if name == regions[0] else None
        )
        missing: list[Check] = []
        if args.stack_name and not request.dns_only:
            stack = wiring.stacks_for(name).describe(args.stack_name)
            if stack is None:
                missing.append(
                    Check(
                        "stack.deployed",
                        Status.FAIL,
                        f"no stack {args.stack_name} in {name}",
                        "deploy the replica-region stack there (docs/deploy.md, several regions)",
                    )
                )
            else:
                here = dataclasses.replace(
                    here,
                    topic_arn=stack.outputs.get("FeedbackTopicArn"),
                    configuration_set=here.configuration_set or stack.outputs.get("ConfigurationSetName"),
                )
        return missing + diagnose(here, dns)

    reports = check_regions(tuple(regions), check)
    if args.json:
        print_json(
            {
                "regions": {report.region: [c.as_dict() for c in report.checks] for report in reports},
                "ready": all(report.ready for report in reports),
                "verdict": verdict(reports),
            }
        )
    else:
        print_regions(reports)
    return 0 if all(report.ready for report in reports) else 1


def print_regions(reports: list[RegionReport]) -> None:
    """A table of checks by region, then each region's checks that did not pass, then the verdict."""
    ids = list(dict.fromkeys(check.id for report in reports for check in report.checks))
    width = max(len(i) for i in [*ids, "check"])
    columns = [max(len(report.region), len(Status.UNKNOWN.value)) for report in reports]
    say(
        f"{'check':<{width}}  " + "  ".join(f"{r.region:<{w}}" for r, w in zip(reports, columns, strict=True))
    )
    for check_id in ids:
        cells = []
        for report, column in zip(reports, columns, strict=True):
            status = next((c.status.value for c in report.checks if c.id == check_id), "-")
            cells.append(f"{status:<{column}}")
        say(f"{check_id:<{width}}  " + "  ".join(cells).rstrip())
    for report in reports:
        problems = [check for check in report.checks if check.status is not Status.PASS]
        if problems:
            say()
            say(f"{report.region}:")
            print_report(problems, indent="  ")
    say()
    say(f"verdict: {verdict(reports)}")


def print_report(checks: list[Check], indent: str = "") -> None:
    width = max(len(check.id) for check in checks)
    status_width = max(len(check.status.value) for check in checks)
    for check in checks:
        say(f"{indent}{check.status.value:<{status_width}}  {check.id:<{width}}  {check.detail}")
        if check.fix:
            say(f"{indent}{'':<{status_width}}  {'':<{width}}  fix: {check.fix}")


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
    add_region_options(
        doctor,
        "every check in each region (each verifies the domain on its own)",
        stack_name="with --all-regions: the deployed stack (the same name in every region) whose regions, "
        "feedback topics and configuration sets to check",
    )
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
