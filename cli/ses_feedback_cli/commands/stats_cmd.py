"""`ses-feedback stats`: what the suppression list recorded, and the account's reputation."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ses_feedback import wiring
from ses_feedback.model.moments import iso_z
from ses_feedback.rules.stats import BOUNCE_RATE, COMPLAINT_RATE, ReputationLines, standing
from ses_feedback_stack.names import LocalStack, region

from ses_feedback_cli.arguments import fraction
from ses_feedback_cli.commands.redrive_cmd import dead_letters
from ses_feedback_cli.commands.suppressions_cmd import build_admin
from ses_feedback_cli.output import print_json, say

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


def cmd_stats(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    since: datetime | None = args.since
    admin = build_admin(args)
    counts = admin.count_history(since)
    suppressed = admin.count_suppressed()
    resolver = LocalStack(prefix=args.prefix).resolver()
    warnings = {
        "bounce_rate": args.bounce_warning or float(resolver.parameter("BounceRateWarning")),
        "complaint_rate": args.complaint_warning or float(resolver.parameter("ComplaintRateWarning")),
    }
    metrics = wiring.reputation_metrics_for(region())
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
    queues = dead_letters(args).depths()
    suppressed_now = {reason.value: count for reason, count in suppressed.items()}
    if args.json:
        print_json(
            {
                "since": iso_z(since),
                "history": counts.as_dict(),
                "suppressed_now": suppressed_now,
                "reputation": reputation,
                "queues": queues,
            }
        )
        return 0
    window = f" since {iso_z(since)}" if since else ""
    say(f"feedback applied{window}: {counts.total} history entries for {counts.addresses} address(es)")
    for kind, actions in sorted(counts.by_event_type_and_action.items()):
        say(f"  {kind:<12} " + ", ".join(f"{action} {n}" for action, n in sorted(actions.items())))
    say("suppressed now: " + ", ".join(f"{reason} {n}" for reason, n in suppressed_now.items()))
    for name, rate in reputation.items():
        value = "no data" if rate["latest"] is None else f"{rate['latest']:.4%} ({rate['standing']})"
        say(
            f"{name.replace('_', ' ')}: {value}; warning {rate['warning']:.4%}, "
            f"AWS review {rate['aws_review']:.2%}, pause {rate['aws_pause']:.2%}"
        )
    say(f"queues: feedback {queues['feedback']}, dead-letter {queues['dead_letter']}")
    return 0


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
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=cmd_stats)
