"""`ses-feedback stats`: what the suppression list recorded, and the account's reputation."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ses_feedback import wiring
from ses_feedback.model.moments import iso_z
from ses_feedback.model.state import AlarmState
from ses_feedback.rules.stats import BOUNCE_RATE, COMPLAINT_RATE, ReputationLines, Standing, standing, worst
from ses_feedback_stack.names import LocalStack, region

from ses_feedback_cli.arguments import fraction
from ses_feedback_cli.commands.redrive_cmd import dead_letters
from ses_feedback_cli.commands.suppressions_cmd import build_admin, settings
from ses_feedback_cli.deployment import NoSuchStack, add_region_options, all_regions, in_region
from ses_feedback_cli.output import error, print_json, say

_RELATIVE = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
# Without --since, reputation is read over the last day (SES publishes it now and then).
_DEFAULT_REPUTATION_WINDOW = timedelta(days=1)


def parse_since(text: str, now: datetime) -> datetime:
    """``30m``, ``24h``, ``7d``, or an ISO date/time (UTC unless it says otherwise), not in the future."""
    relative = _RELATIVE.match(text)
    try:
        if relative:
            moment = now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither 30m/24h/7d nor an ISO date") from None
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{text!r} reaches before the year 1") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment > now:
        raise argparse.ArgumentTypeError(f"{text!r} is in the future")
    return moment


def rate_answer(lines: ReputationLines, points: list[tuple[datetime, float]]) -> dict[str, Any]:
    """The latest and the highest value of one account-level reputation rate (points oldest first)."""
    return {
        "metric": lines.metric,
        "latest": points[-1][1] if points else None,
        "latest_at": iso_z(points[-1][0]) if points else None,
        "highest": max(value for _, value in points) if points else None,
        "aws_review": lines.review,
        "aws_pause": lines.pause,
    }


def reputation_in(
    region_name: str, since: datetime | None, now: datetime, warnings: dict[str, float]
) -> dict[str, Any]:
    """One region's SES reputation rates (each region's SES account keeps its own)."""
    metrics = wiring.reputation_metrics_for(region_name)
    reputation = {}
    for name, lines in (("bounce_rate", BOUNCE_RATE), ("complaint_rate", COMPLAINT_RATE)):
        rate = rate_answer(
            lines, metrics.maxima(lines.metric, since or now - _DEFAULT_REPUTATION_WINDOW, now)
        )
        rate["warning"] = warnings[name]
        rate["standing"] = (
            standing(rate["latest"], lines, warnings[name]).value if rate["latest"] is not None else None
        )
        reputation[name] = rate
    return reputation


def alarms_in(region_name: str, stack_name: str) -> dict[str, str]:
    """The stack's alarms in one region and their states (each region's stack has its own)."""
    return {
        name: state.value for name, state in wiring.stack_alarms_for(region_name).states(stack_name).items()
    }


def cmd_stats(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    since: datetime | None = args.since
    if args.regions and not args.all_regions:
        error("--regions: only with --all-regions", code="invalid_request")
        return 2
    try:
        regions = all_regions(args, whose="read") if args.all_regions else (region(),)
    except NoSuchStack as exc:
        error(str(exc))
        return 2
    resolver = LocalStack(prefix=args.prefix).resolver()
    warnings = {
        "bounce_rate": args.bounce_warning or float(resolver.parameter("BounceRateWarning")),
        "complaint_rate": args.complaint_warning or float(resolver.parameter("ComplaintRateWarning")),
    }
    # The suppression list is one, kept at home (the first region, or a replica-region stack's
    # HomeRegion): read there.
    home = regions[0] if args.all_regions else (settings(args).home_region or region())
    with in_region(home):
        admin = build_admin(args)
        counts = admin.count_history(since)
        suppressed = admin.count_suppressed()
    # The feedback queue is the home's, where every region's feedback arrives; the dead-letter
    # queue is this region's (a replica region's subscription keeps its own).
    queues = dead_letters(args).depths()
    stack_name = args.stack_name or args.prefix
    per_region = {
        name: {"reputation": reputation_in(name, since, now, warnings), "alarms": alarms_in(name, stack_name)}
        for name in regions
    }
    answer: dict[str, Any] = {
        "since": iso_z(since),
        "history": counts.as_dict(),
        "suppressed_now": {reason.value: count for reason, count in suppressed.items()},
    }
    if args.all_regions:
        answer |= {"queues": queues, "regions": per_region, "together": together(per_region)}
    else:
        answer |= {**per_region[regions[0]], "queues": queues}
    if args.json:
        print_json(answer)
        return 0
    window = f" since {iso_z(since)}" if since else ""
    say(f"feedback applied{window}: {counts.total} history entries for {counts.addresses} address(es)")
    for kind, actions in sorted(counts.by_event_type_and_action.items()):
        say(f"  {kind:<12} " + ", ".join(f"{action} {n}" for action, n in sorted(actions.items())))
    say("suppressed now: " + ", ".join(f"{reason} {n}" for reason, n in answer["suppressed_now"].items()))
    for name, part in per_region.items():
        where = f"{name} " if args.all_regions else ""
        for rate_name, rate in part["reputation"].items():
            value = "no data" if rate["latest"] is None else f"{rate['latest']:.4%} ({rate['standing']})"
            say(
                f"{where}{rate_name.replace('_', ' ')}: {value}; warning {rate['warning']:.4%}, "
                f"AWS review {rate['aws_review']:.2%}, pause {rate['aws_pause']:.2%}"
            )
        say(f"{where}alarms: {alarms_text(part['alarms'])}")
    if args.all_regions:
        both = answer["together"]
        say(
            f"together: worst standing {both['worst_standing'] or 'no data'}; "
            f"alarms in ALARM {', '.join(both['in_alarm']) or 'none'}"
        )
    say(f"queues: feedback {queues['feedback']}, dead-letter {queues['dead_letter']}")
    return 0


def alarms_text(alarms: dict[str, str]) -> str:
    if not alarms:
        return "none"
    firing = [name for name, state in alarms.items() if state == AlarmState.ALARM.value]
    return f"{len(alarms)}, " + (f"in ALARM: {', '.join(firing)}" if firing else "none in ALARM")


def together(per_region: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The regions as one deployment: the worst reputation standing, and every alarm that fires."""
    standings = [
        Standing(rate["standing"]) if rate["standing"] else None
        for part in per_region.values()
        for rate in part["reputation"].values()
    ]
    found = worst(standings)
    return {
        "worst_standing": found.value if found else None,
        "in_alarm": [
            f"{name}:{alarm}"
            for name, part in per_region.items()
            for alarm, state in part["alarms"].items()
            if state == AlarmState.ALARM.value
        ],
    }


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "stats", help="feedback counts by event type and decision, suppressions, reputation rates"
    )
    parser.add_argument(
        "--since",
        type=lambda text: parse_since(text, datetime.now(UTC)),
        help="only feedback that occurred since: 30m, 24h, 7d or an ISO date/time",
    )
    parser.add_argument("--table", help="table name (default: $SUPPRESSION_TABLE, else the local stack's)")
    parser.add_argument("--queue-url", help="feedback queue URL (default: the local stack's)")
    parser.add_argument("--dlq-url", help="dead-letter queue URL (default: the local stack's)")
    parser.add_argument("--bounce-warning", type=fraction, help="default: the template's BounceRateWarning")
    parser.add_argument(
        "--complaint-warning", type=fraction, help="default: the template's ComplaintRateWarning"
    )
    add_region_options(
        parser,
        "the list (one, read at home), then each region's reputation and alarms, then together",
        stack_name="the deployed stack: its regions (with --all-regions) and its alarms "
        "(default: the local stack's)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=cmd_stats)
