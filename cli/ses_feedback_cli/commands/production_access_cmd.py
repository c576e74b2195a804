"""`ses-feedback production-access`: ready to leave the SES sandbox? Then ask, in words taken
from the stack itself."""

from __future__ import annotations

import argparse
from typing import Any

from ses_feedback import wiring
from ses_feedback.errors import AwsCallFailed, InvalidAddress
from ses_feedback.parsing.addresses import normalize_address
from ses_feedback.settings import Settings
from ses_feedback_doctor import dmarc
from ses_feedback_doctor.diagnose import BadDoctorInput, DoctorRequest, diagnose, normalize_domain
from ses_feedback_doctor.dns_lookup import BadNameserver, DnsLookup
from ses_feedback_doctor.model import Check, Status
from ses_feedback_doctor.production_access import MAIL_TYPES, StackFacts, readiness, use_case_description
from ses_feedback_stack.names import LocalStack, region

from ses_feedback_cli.arguments import seconds
from ses_feedback_cli.output import error, print_json, say


def stack_of(args: argparse.Namespace) -> tuple[LocalStack, dict[str, str]] | None:
    """The template with the deployed stack's parameters (--stack-name), else the local stack's;
    None when the region has no stack of that name."""
    if not args.stack_name:
        stack = LocalStack(prefix=args.prefix)
        return stack, dict(stack.resolver().refs)
    described = wiring.stacks_for(region()).describe(args.stack_name)
    if described is None:
        return None
    outputs = described.outputs
    return LocalStack(prefix=args.stack_name, parameters=described.parameters), {
        "SuppressionTable": outputs.get("SuppressionTableName", ""),
        "ConfigurationSet": outputs.get("ConfigurationSetName", ""),
        "FeedbackTopic": outputs.get("FeedbackTopicArn", ""),
    }


def suppression_check(table: str, region_name: str) -> Check:
    try:
        status = wiring.stacks_for(region_name).table_status(table)
    except AwsCallFailed as exc:
        return Check("stack.suppression", Status.FAIL, f"cannot read the suppression table {table}: {exc}")
    return Check("stack.suppression", Status.PASS, f"suppression table {table} is {status}")


def published_dmarc_policy(dns: DnsLookup, domain: str) -> str | None:
    for text in dns.query(f"_dmarc.{domain}", "TXT").records:
        if dmarc.is_dmarc(text):
            try:
                return dmarc.parse(text).policy
            except dmarc.DmarcSyntaxError:
                return None
    return None


def cmd_production_access(args: argparse.Namespace) -> int:
    region_name = region()
    # Checked before anything is asked: SES would refuse a bad one only at --submit.
    for contact in args.contact_email or []:
        try:
            normalize_address(contact)
        except InvalidAddress as exc:
            error(f"--contact-email: {exc}")
            return 2
    found = stack_of(args)
    if found is None:
        error(f"--stack-name {args.stack_name}: no such stack in {region_name} (--region)")
        return 2
    stack, refs = found
    resolver = stack.resolver()
    try:
        domain = normalize_domain(args.domain or resolver.parameter("SendingDomain"))
        dns = DnsLookup(nameserver=args.nameserver, timeout=args.timeout)
    except (BadDoctorInput, BadNameserver) as exc:
        error(str(exc))
        return 2
    mail_from = f"{resolver.parameter('MailFromSubdomain')}.{domain}"
    checks = diagnose(
        DoctorRequest(
            domain=domain,
            region=region_name,
            configuration_set=refs.get("ConfigurationSet") or None,
            topic_arn=refs.get("FeedbackTopic") or None,
        ),
        dns,
    )
    items = readiness(checks, suppression_check(refs["SuppressionTable"], region_name))
    environment = {
        **stack.function_environment("FeedbackFunction"),
        **stack.function_environment("SenderFunction"),
    }
    facts = StackFacts(
        domain=domain,
        mail_from_domain=mail_from,
        settings=Settings.from_env(environment),
        configuration_set=refs.get("ConfigurationSet") or None,
        dmarc_policy=published_dmarc_policy(dns, domain),
        bounce_warning=float(resolver.parameter("BounceRateWarning")),
        complaint_warning=float(resolver.parameter("ComplaintRateWarning")),
        receives_dmarc_reports=resolver.parameter("ReceiveDmarcReports") == "true",
    )
    website = args.website_url or "https://" + domain
    description = use_case_description(facts, args.mail_type, website)
    ready = all(item.ready for item in items)
    if args.json:
        print_json(
            {
                "ready": ready,
                "readiness": [item.as_dict() for item in items],
                "mail_type": args.mail_type,
                "website_url": website,
                "use_case_description": description,
                "submitted": False,
            }
        )
    else:
        for item in items:
            say(f"{'ready' if item.ready else 'NOT READY':<9}  {item.what}: {item.detail}")
            if not item.ready and item.fix:
                say(f"{'':<9}  fix: {item.fix}")
        say("")
        say(f"use case description ({args.mail_type}, {website}), for review:")
        say("")
        say(description)
        say("")
    if not args.submit:
        if not args.json:
            say("review it, then run again with --submit to send the request (SES v2 PutAccountDetails)")
        return 0 if ready else 1
    if not ready:
        error("not submitted: fix what is NOT READY first (AWS turns such requests down)")
        return 1
    try:
        wiring.ses_setup_for(region_name).request_production_access(
            args.mail_type, website, description, args.contact_email or []
        )
    except AwsCallFailed as exc:
        error(f"PutAccountDetails failed: {exc}")
        return 1
    say(
        f"submitted the request for production access in {region_name}; "
        "AWS answers by email, usually within a day"
    )
    return 0


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "production-access",
        help="check readiness, then ask to leave the SES sandbox in words taken from the stack's settings",
    )
    parser.add_argument("--domain", help="the sending domain (default: the template's SendingDomain)")
    parser.add_argument("--stack-name", help="a deployed stack: its parameters and outputs are the settings")
    parser.add_argument("--website-url", help="your website (default: https://DOMAIN)")
    parser.add_argument("--mail-type", choices=MAIL_TYPES, default="TRANSACTIONAL")
    parser.add_argument(
        "--contact-email", action="append", metavar="ADDRESS", help="also tell this address (repeatable)"
    )
    parser.add_argument(
        "--nameserver", metavar="HOST[:PORT]", help="ask this DNS server (default: the system's)"
    )
    parser.add_argument(
        "--timeout", type=seconds(60), default=5.0, help="seconds per DNS query (default: %(default)s)"
    )
    parser.add_argument("--submit", action="store_true", help="send the request (SES v2 PutAccountDetails)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=cmd_production_access)
