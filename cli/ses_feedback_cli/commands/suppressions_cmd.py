"""`ses-feedback suppressions …`: read and change the suppression list.

Every command is a client of the use cases the API function and the sync function call
(``SuppressionAdmin``, ``BulkImport``), built by ``wiring`` from the same settings, and
prints the API's own answer models. Refusals become exit statuses through the error table
(``_run``), in one place.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import os
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from ses_feedback import wiring
from ses_feedback.errors import InvalidRequest, SesFeedbackError, is_refusal
from ses_feedback.model.answers import (
    AddressStatus,
    ErasureAnswer,
    ErrorAnswer,
    HistoryItem,
    HistoryPageModel,
    ManualChange,
    StreamStatus,
    StreamSuppression,
    StreamSuppressionPage,
    Suppression,
    SuppressionDetail,
    SuppressionPage,
)
from ses_feedback.model.moments import iso_z
from ses_feedback.model.reasons import LISTING_ORDER, Reason
from ses_feedback.model.state import ManualOutcome
from ses_feedback.model.streams import BULK_SCOPES, EVERY
from ses_feedback.parsing.csv_rows import FileProblem, RowError, file_problem, read_rows, utf8_problem
from ses_feedback.parsing.operator_input import ADDRESSES, EXPORT, HISTORY, RECENT_HISTORY, PageSize
from ses_feedback.settings import Settings
from ses_feedback.usecases.admin import SuppressionAdmin
from ses_feedback_emulator.state import served_stack
from ses_feedback_stack.names import LocalStack

from ses_feedback_cli import aws_failures
from ses_feedback_cli.arguments import whole_number
from ses_feedback_cli.deployment import NoSuchStack, add_region_options, all_regions, in_region, in_region_arn
from ses_feedback_cli.output import answer_stream, counted, error, print_json, say, shown
from ses_feedback_cli.progress import ProgressBar

# The reasons the listing knows (unsubscribes are per stream, erasures keep no address).
REASONS = [reason.value for reason in LISTING_ORDER]
# … and on one stream (--stream), its unsubscribes too.
STREAM_REASONS = [*REASONS, Reason.UNSUBSCRIBED.value]
EXPORT_COLUMNS = ["address", "reason", "since", "expires_at", "note", "actor"]
# An export of one stream adds what each row covers, as `import` reads it back: the stream of
# an unsubscribe, `*bulk` for a complaint about bulk mail, empty for every stream.
STREAM_EXPORT_COLUMNS = [*EXPORT_COLUMNS, "stream"]


def table_name(args: argparse.Namespace) -> str:
    """--table, else $SUPPRESSION_TABLE (as in Lambda), else the local stack's table."""
    return str(
        getattr(args, "table", None)
        or os.environ.get("SUPPRESSION_TABLE")
        or LocalStack(prefix=args.prefix).name("SuppressionTable")
    )


def settings(args: argparse.Namespace, given: Mapping[str, str] | None = None) -> Settings:
    """The functions' settings from this shell's environment, with the table this command uses.

    On the local stack (no --table, no $SUPPRESSION_TABLE) the streams secret is the local
    one too; a deployed stack's is $STREAMS_SECRET_ID (its StreamsSecretArn output). ``given``
    variables win over both (one region's names, for `erase --all-regions`).
    """
    given = given or {}
    environ = {**os.environ, "SUPPRESSION_TABLE": table_name(args), **given}
    local = (
        not getattr(args, "table", None)
        and not os.environ.get("SUPPRESSION_TABLE")
        and "SUPPRESSION_TABLE" not in given
    )
    if local and not os.environ.get("STREAMS_SECRET_ID"):
        environ.setdefault("STREAMS_SECRET_ID", LocalStack(prefix=args.prefix).name("StreamsSecret"))
    if local:
        # The local stack's bus and message table (a deployed stack's: $EVENT_BUS_NAME, $MESSAGE_TABLE).
        stack = served_stack(args.prefix)
        environ.setdefault("EVENT_BUS_NAME", stack.name("EventBus"))
        environ.setdefault("MESSAGE_TABLE", stack.name("MessageTable"))
        # In a replica region (`local up --regions`), writes go to the home region, as its
        # functions' do (a deployed stack's: $HOME_REGION).
        functions_env = stack.function_environment("SuppressionsApiFunction")
        for name in ("HOME_REGION", "REPLICA_REGIONS"):
            if name in functions_env:
                environ.setdefault(name, functions_env[name])
    return Settings.from_env(environ)


def build_admin(args: argparse.Namespace, ses_sync: bool | None = None) -> SuppressionAdmin:
    return wiring.admin_for(settings(args), ses_sync=ses_sync)


def actor(args: argparse.Namespace) -> str:
    """--actor, else the IAM principal of the credentials in use (as the API records), else the OS user."""
    if getattr(args, "actor", None):
        return str(args.actor)
    return wiring.caller_arn() or f"os-user:{getpass.getuser()}"


def _run(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Refusals → a message on stderr and the error table's exit status (2 bad input, 1 refused)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except SesFeedbackError as exc:
            if not is_refusal(exc):
                raise
            error(str(exc), body=ErrorAnswer.of(exc).model_dump(mode="json"))
            return exc.exit_status

    return run


def _json_line(model: Suppression | HistoryItem) -> str:
    return model.model_dump_json()


# ---- reads ---------------------------------------------------------------------------------


def cmd_get(args: argparse.Namespace) -> int:
    if args.stream is not None:
        return _get_on_stream(args)
    now = datetime.now(UTC)
    state, history = build_admin(args).get(args.address, history_limit=args.history)
    answer = AddressStatus.of_detail(SuppressionDetail.of(state, history, now))
    if args.json:
        print_json(answer.model_dump(mode="json"))
        return 0
    status = f"suppressed ({answer.reason}) since {answer.since}" if answer.suppressed else "not suppressed"
    if answer.expires_at:
        status += f", until {answer.expires_at}"
    if answer.scoped and not answer.suppressed:
        status += " on every stream"
    say(f"{answer.address}: {status}; soft bounces in window: {answer.soft_bounce_count}")
    for scoped in answer.scoped:
        say(f"  {_where(scoped.scope)}: {scoped.reason} since {scoped.since}")
    for item in answer.history:
        say(_history_line(item))
    return 0


def _get_on_stream(args: argparse.Namespace) -> int:
    config = settings(args)
    verdict = wiring.admin_for(config).on_stream(args.address, args.stream, config.streams)
    answer = StreamStatus(
        address=verdict.address,
        stream=verdict.stream,
        suppressed=verdict.suppressed,
        reason=verdict.reason,
        since=iso_z(verdict.since),
    )
    if args.json:
        print_json(answer.model_dump(mode="json"))
        return 0
    status = f"suppressed ({answer.reason}) since {answer.since}" if answer.suppressed else "not suppressed"
    say(f"{answer.address} on {answer.stream}: {status}")
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    if args.regions and not args.all_regions:
        raise InvalidRequest.of("--regions", "only with --all-regions")
    if args.all_regions:
        return _erase_in_every_region(args)
    answer = _erased(build_admin(args), args)
    if args.json:
        print_json(answer.model_dump(mode="json"))
    else:
        say(_erased_text(answer))
    return 0


def _erased(admin: SuppressionAdmin, args: argparse.Namespace, who: str | None = None) -> ErasureAnswer:
    erased = admin.erase(args.address, args.note, who or actor(args))
    return ErasureAnswer(erased=True, deleted_items=erased.deleted_items, since=iso_z(erased.since))


def _erased_text(answer: ErasureAnswer) -> str:
    deleted = counted(answer.deleted_items, "item", "items")
    return f"erased: {deleted} deleted; suppressed on every stream (reason erased)"


def _erase_in_every_region(args: argparse.Namespace) -> int:
    """--all-regions: the one erasure in each region of the deployment, the home first. The
    tombstone and the list's items are the home's (the global table replicates their deletion);
    each region keeps its own message timelines, erased there. A region that fails is named, and
    the others are tried all the same (exit 1)."""
    if (getattr(args, "table", None) or os.environ.get("SUPPRESSION_TABLE")) and not args.stack_name:
        raise InvalidRequest.of(
            "--all-regions", "each region of a deployed stack has its own message table: give --stack-name"
        )
    try:
        regions = all_regions(args, whose="erase in")
    except NoSuchStack as exc:
        raise InvalidRequest(str(exc)) from None
    who = actor(args)
    answers: dict[str, dict[str, Any]] = {}
    for name in regions:
        try:
            with in_region(name):
                config = settings(args, _names_in(args, name, home=regions[0]))
                answers[name] = _erased(wiring.admin_for(config), args, who).model_dump(mode="json")
        except (*aws_failures.FAILURES, NoSuchStack, SesFeedbackError) as exc:
            if isinstance(exc, SesFeedbackError) and _same_everywhere(exc):
                raise
            answers[name] = {"error": _failure(exc)}
    failed = [name for name, answer in answers.items() if "error" in answer]
    if args.json:
        print_json({"regions": answers})
    else:
        for name, answer in answers.items():
            said = answer["error"]["message"] if "error" in answer else _erased_text(ErasureAnswer(**answer))
            say(f"{name}: {'failed: ' if 'error' in answer else ''}{said}")
    if failed and not args.json:  # under --json, the answer names them
        error(f"not erased in {', '.join(failed)}: run it again (an erasure may be repeated)")
    return 1 if failed else 0


def _same_everywhere(exc: SesFeedbackError) -> bool:
    """Bad input (the address, the note) fails alike in every region, and a bug is a bug: the
    command stops there, as without --all-regions."""
    return not isinstance(exc, aws_failures.FAILURES) and (not is_refusal(exc) or exc.exit_status == 2)


def _failure(exc: Exception) -> dict[str, str]:
    """One region's failure, as its line says it."""
    if isinstance(exc, aws_failures.FAILURES):
        return {"code": aws_failures.code_of(exc), "message": aws_failures.explain(exc)}
    return {"code": exc.code if isinstance(exc, SesFeedbackError) else "no_such_stack", "message": str(exc)}


def _names_in(args: argparse.Namespace, name: str, home: str) -> dict[str, str]:
    """What an erasure in region ``name`` uses: the home's list (written there, from any region),
    this region's message table and bus: the deployed stack's outputs (--stack-name), else the
    local stack's names."""
    names = {"HOME_REGION": "" if name == home else home}
    if not args.stack_name:
        return names
    stack = wiring.stacks_for(name).describe(args.stack_name)
    if stack is None:
        raise NoSuchStack(f"no stack {args.stack_name} in {name}")
    outputs = stack.outputs
    wanted = ("SuppressionTableName", "MessageTableName", "StreamsSecretArn")
    missing = [output for output in wanted if not outputs.get(output)]
    if missing:
        raise NoSuchStack(f"stack {args.stack_name} in {name} has no {', '.join(missing)} output")
    return names | {
        "SUPPRESSION_TABLE": outputs["SuppressionTableName"],
        "MESSAGE_TABLE": outputs["MessageTableName"],
        "EVENT_BUS_NAME": outputs.get("EventBusName", ""),
        # A replica stack's output is the home's ARN: the replica of the secret is read here.
        "STREAMS_SECRET_ID": in_region_arn(outputs["StreamsSecretArn"], name),
    }


def _history_line(item: HistoryItem) -> str:
    line = f"  {item.occurred_at}  {item.event_type:<12} {item.detail:<28} {item.action}"
    if item.actor or item.note:
        line += f"  by {item.actor or '?'}: {item.note or ''}"
    elif item.source:
        line += f"  by the {item.source}"
    return shown(line)  # a note or an SES diagnostic could hold a line break


def _where(scope: str) -> str:
    return "every bulk stream" if scope in BULK_SCOPES else f"stream {scope}"


def _state_line(row: Suppression) -> str:
    line = f"{row.address:<40} {row.reason or '-':<12} {row.since or '':<26}"
    if row.expires_at:
        line += f" until {row.expires_at}"
    if isinstance(row, StreamSuppression) and row.scope is not None and row.scope != EVERY:
        line += f" ({_where(row.scope)})"
    if row.note:
        line += f"  {row.note}"
    return shown(line)


def cmd_list(args: argparse.Namespace) -> int:
    config = settings(args)
    admin = wiring.admin_for(config)
    reason = Reason(args.reason) if args.reason else None
    cursor = args.cursor
    while True:
        now = datetime.now(UTC)
        page: SuppressionPage | StreamSuppressionPage
        if args.stream is not None:
            listed = admin.list_on_stream(
                args.stream, config.streams, reason, limit=args.limit, cursor=cursor
            )
            page = StreamSuppressionPage.of(listed, now)
        else:
            page = SuppressionPage.of(admin.list_suppressed(reason, limit=args.limit, cursor=cursor), now)
        if args.all:
            # Streams: one JSON object (or text line) per address, page after page.
            stream = answer_stream()
            for row in page.items:
                stream.write((_json_line(row) if args.json else _state_line(row)) + "\n")
            stream.flush()
            if page.next_cursor is None:
                return 0
            cursor = page.next_cursor
            continue
        if args.json:
            print_json(page.model_dump(mode="json"))
        else:
            for row in page.items:
                say(_state_line(row))
            if page.next_cursor:
                say(f"more: --cursor {page.next_cursor}")
        return 0


def cmd_history(args: argparse.Namespace) -> int:
    page = HistoryPageModel.of(build_admin(args).history(args.address, limit=args.limit, cursor=args.cursor))
    if args.json:
        print_json(page.model_dump(mode="json"))
        return 0
    for item in page.items:
        say(_history_line(item))
    if page.next_cursor:
        say(f"more: --cursor {page.next_cursor}")
    return 0


# ---- manual changes ------------------------------------------------------------------------


def _report(args: argparse.Namespace, outcome: ManualOutcome, verb: str) -> int:
    change = ManualChange.of(outcome, datetime.now(UTC))
    row = change.suppression
    if args.json:
        print_json(
            {**row.model_dump(mode="json"), "changed": change.changed, "ses_removed": change.ses_removed}
        )
    elif change.changed:
        say(f"{row.address}: {verb}" + (" (also on SES's account list)" if change.ses_removed else ""))
    else:
        say(f"{row.address}: already suppressed ({row.reason}); nothing changed")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    outcome = build_admin(args).suppress(args.address, args.note, actor(args))
    return _report(args, outcome, "suppressed (manual)")


def cmd_remove(args: argparse.Namespace) -> int:
    outcome = build_admin(args, ses_sync=args.ses_sync).lift(
        args.address, args.note, actor(args), args.force, args.stream
    )
    return _report(args, outcome, f"unsubscribe from {args.stream} lifted" if args.stream else "lifted")


# ---- bulk ----------------------------------------------------------------------------------


def _counted_lines(handle: TextIO, progress: ProgressBar) -> Iterator[str]:
    for line in handle:
        progress.advance_bytes(len(line))
        yield line


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise InvalidRequest.of("FILE", f"{path} is not a file")
    # The whole file is read before any row is imported: a file that is not UTF-8, or that
    # the CSV reader cannot read as a whole, is refused with the line where the trouble starts.
    with path.open("rb") as raw:
        problem = utf8_problem(iter(lambda: raw.read(1 << 16), b""))
    fix = "save it as UTF-8 (CSV UTF-8)"
    if not problem:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            problem = file_problem(handle)
        fix = "fix that line"
    if problem:
        raise InvalidRequest.of("FILE", f"{path}: {problem}: {fix}; nothing was imported")
    bulk = wiring.bulk_import_for(settings(args))
    who = actor(args)
    progress = ProgressBar(path.stat().st_size, enabled=not args.no_progress)
    reason = Reason(args.reason) if args.reason else None

    def reject(row: RowError) -> None:
        progress.message(f"skipped {row}")

    # utf-8-sig: spreadsheets often start a CSV with a byte-order mark.
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = read_rows(_counted_lines(handle, progress), datetime.now(UTC), reason)
            summary = bulk.import_entries(rows, who, on_reject=reject, on_progress=progress.update)
    except FileProblem as exc:
        # Only when the file changed after it was checked: the rows before this line are in.
        raise InvalidRequest.of("FILE", f"{path}: {exc}: the file changed while it was imported") from None
    progress.finish()
    if args.json:
        print_json(summary.as_dict())
    else:
        say(
            f"{counted(summary.rows, 'row', 'rows')}: {summary.imported:,} imported, "
            f"{summary.updated:,} updated, "
            f"{summary.unchanged:,} already suppressed, {summary.lifted:,} lifted since, "
            f"{summary.expired:,} expired, {summary.duplicates:,} repeated, {summary.rejected:,} rejected"
        )
        for row in summary.rejected_rows:
            say(f"  {row}")
    # The other rows are imported; a script still learns that some were not.
    return 1 if summary.rejected else 0


def cmd_export(args: argparse.Namespace) -> int:
    reason = Reason(args.reason) if args.reason else None
    config = settings(args)
    admin = wiring.admin_for(config)
    now = datetime.now(UTC)
    rows: Iterator[Suppression]
    if args.stream is not None:
        states = admin.iter_on_stream(args.stream, config.streams, reason, page_size=args.page_size)
        bulk = config.streams.is_bulk(args.stream)
        rows = (StreamSuppression.on(state, args.stream, bulk, now) for state in states)
    else:
        states = admin.iter_suppressed(reason, page_size=args.page_size)
        rows = (Suppression.of(state, now) for state in states)
    columns = STREAM_EXPORT_COLUMNS if args.stream is not None else EXPORT_COLUMNS
    if args.output:
        try:
            with Path(args.output).open("w", newline="", encoding="utf-8") as handle:
                count = _write_export(rows, args.format, handle, columns)
        except OSError as exc:
            error(f"--output {args.output}: {exc.strerror or exc}")
            return 2
    else:
        count = _write_export(rows, args.format, answer_stream(), columns)
    if args.output:
        say(f"exported {counted(count, 'address', 'addresses')} to {args.output}")
    return 0


def _export_values(row: Suppression) -> dict[str, Any]:
    values = row.model_dump(mode="json")
    if isinstance(row, StreamSuppression):
        values["stream"] = row.scope if row.scope != EVERY else None
    return values


def _write_export(rows: Iterator[Suppression], fmt: str, stream: TextIO, columns: list[str]) -> int:
    """One row per address as pages arrive: memory stays one page, whatever the list's size."""
    count = 0
    writer = csv.writer(stream) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(columns)
    for row in rows:
        if writer is not None:
            values = _export_values(row)
            writer.writerow([values[column] or "" for column in columns])
        else:
            stream.write(_json_line(row) + "\n")
        count += 1
    stream.flush()
    return count


# ---- the parser ----------------------------------------------------------------------------


def _page(size: PageSize) -> dict[str, Any]:
    """An option's type and default from the one table of page sizes (the API's too)."""
    return {"type": whole_number(1, size.most), "default": size.default}


def register(commands: Any) -> None:
    suppressions = commands.add_parser("suppressions", help="read and change the suppression list")
    suppressions.add_argument(
        "--table", help="table name (default: $SUPPRESSION_TABLE, else the local stack's)"
    )
    sub = suppressions.add_subparsers(dest="suppressions_command", required=True)

    get = sub.add_parser("get", help="one address: state, reason, expiry and recent history")
    get.add_argument("address")
    get.add_argument("--json", action="store_true", help="print JSON")
    get.add_argument(
        "--history", **_page(RECENT_HISTORY), help="history entries to show (default: %(default)s)"
    )
    get.set_defaults(func=_run(cmd_get))

    listing = sub.add_parser("list", help="suppressed addresses, newest first, a page at a time")
    _listing_filters(listing)
    listing.add_argument("--limit", **_page(ADDRESSES), help="addresses a page (default: %(default)s)")
    listing.add_argument("--cursor", help="the next_cursor of the previous page")
    listing.add_argument("--all", action="store_true", help="every page, streamed (with --json: JSON lines)")
    listing.add_argument("--json", action="store_true", help="print JSON: items and next_cursor")
    listing.set_defaults(func=_run(cmd_list))

    history = sub.add_parser("history", help="one address's history, newest first, a page at a time")
    history.add_argument("address")
    history.add_argument("--limit", **_page(HISTORY), help="entries a page (default: %(default)s)")
    history.add_argument("--cursor", help="the next_cursor of the previous page")
    history.add_argument("--json", action="store_true", help="print JSON: items and next_cursor")
    history.set_defaults(func=_run(cmd_history))

    actor_help = "who makes the change (default: the ARN of the AWS credentials in use)"
    add = sub.add_parser("add", help="suppress an address by hand (reason manual)")
    add.add_argument("address")
    add.add_argument("--note", required=True, help="why; kept in the address's history")
    add.add_argument("--actor", help=actor_help)
    add.add_argument("--json", action="store_true", help="print JSON")
    add.set_defaults(func=_run(cmd_add))

    remove = sub.add_parser("remove", help="lift an address's suppression")
    remove.add_argument("address")
    remove.add_argument("--note", required=True, help="why; kept in the address's history")
    remove.add_argument("--force", action="store_true", help="needed to lift a complaint or an erasure")
    remove.add_argument("--actor", help=actor_help)
    remove.add_argument(
        "--ses-sync",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also lift it on SES's account-level suppression list "
        "(default: $SYNC_SES_ACCOUNT_SUPPRESSION_LIST, else off)",
    )
    remove.add_argument("--json", action="store_true", help="print JSON")
    remove.set_defaults(func=_run(cmd_remove))

    _register_streams(sub, actor_help)

    load = sub.add_parser(
        "import",
        help="load a CSV export from another provider (safe to run twice)",
        description="A file the CSV reader cannot read as a whole (a quote left open, a field over the "
        "csv limit, a header without an address column or naming one twice) is refused before "
        "anything is written (exit 2). Bad rows are skipped and named by line; the exit status is then 1.",
    )
    load.add_argument(
        "file", help="CSV: one address a line, or with a header row (docs/operating.md says which columns)"
    )
    load.add_argument("--reason", choices=REASONS, help="give every row this reason (ignore the file's)")
    load.add_argument("--actor", help=actor_help)
    load.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    load.add_argument("--json", action="store_true", help="print the summary as JSON")
    load.set_defaults(func=_run(cmd_import))

    export = sub.add_parser("export", help="every suppressed address, streamed page by page")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    _listing_filters(export)
    export.add_argument("--output", help="write to this file (default: stdout)")
    export.add_argument("--page-size", **_page(EXPORT), help=argparse.SUPPRESS)
    export.set_defaults(func=_run(cmd_export))


def _listing_filters(command: Any) -> None:
    """`list` and `export`: --reason, and --stream (what stops mail on one stream)."""
    command.add_argument(
        "--reason",
        choices=STREAM_REASONS,
        help="only this reason (unsubscribed: with --stream; default: all)",
    )
    command.add_argument(
        "--stream",
        help="only what stops mail on this stream: every-stream suppressions, "
        "then its unsubscribes and (bulk streams) complaints about bulk mail",
    )


def _register_streams(sub: Any, actor_help: str) -> None:
    """What streams added: `get --stream`, `remove --stream` and `erase`."""
    sub.choices["get"].add_argument("--stream", help="answer for this stream only: suppressed, reason, since")
    sub.choices["remove"].add_argument(
        "--stream",
        help="lift the unsubscribe from this stream (nothing else); '*bulk-unsubscribed': the recipient's "
        "leave of every bulk stream",
    )
    erase = sub.add_parser(
        "erase",
        help="forget an address (GDPR art. 17): delete every item holding it, keep it suppressed everywhere",
    )
    erase.add_argument("address")
    erase.add_argument(
        "--note", required=True, help="why, e.g. a ticket number; kept in the audit entry (never the address)"
    )
    erase.add_argument("--actor", help=actor_help)
    add_region_options(
        erase,
        "erase in each region (each keeps its own message timelines), the home first",
        stack_name="with --all-regions: the deployed stack (the same name in every region) whose regions, "
        "message tables, bus and secret to use (its outputs)",
    )
    erase.add_argument("--json", action="store_true", help="print JSON")
    erase.set_defaults(func=_run(cmd_erase))
