"""Suppression lists as other providers export them: CSV rows → validated import entries. Pure.

Two layouts are read, detected from the first non-blank line:

- **a header row** (any column order, names matched case-insensitively, spaces and dashes
  read as underscores): the address column is one of ``ADDRESS_COLUMNS``, and optional
  reason, note and date columns are one of ``REASON_COLUMNS``, ``NOTE_COLUMNS``,
  ``DATE_COLUMNS``; other columns are ignored.
- **no header**: the columns are, in order, address, reason, note, date, and every one but
  the address may be missing (a stream needs a header: ``STREAM_COLUMNS``). A plain
  one-address-per-line file is this layout; its entries get reason ``manual``.

Cells are separated by ',', or by ';' or a tab when the first row is (``separator``: what a
spreadsheet saves in many locales).

A row with an empty reason gets ``manual``; an unsubscribe word (``UNSUBSCRIBE_WORDS``) with
a stream becomes ``unsubscribed`` from that stream only (without one it stays ``manual``:
every stream, as before streams existed); a complaint with the stream ``*bulk`` (what a
stream's export writes for a complaint about bulk mail) blocks every bulk stream only, and an
unsubscribe with ``*bulk-unsubscribed`` is the recipient's "leave every bulk stream"; a
reason word is mapped by ``REASON_WORDS``
(the words SES, SendGrid, Mailgun, Postmark, Mailchimp and SparkPost use). A row that
breaks a rule becomes a ``RowError`` naming its line and field; the rows after it are
still read. Blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ses_feedback.errors import InvalidAddress
from ses_feedback.model.reasons import Reason
from ses_feedback.model.streams import ALL_BULK, ALL_BULK_UNSUBSCRIBED, STREAM_RULE, is_stream_name
from ses_feedback.parsing.addresses import normalize_address
from ses_feedback.parsing.operator_input import NOTE_MAX

ADDRESS_COLUMNS = frozenset(
    {"address", "email", "email_address", "emailaddress", "e_mail", "recipient", "destination", "to"}
)
REASON_COLUMNS = frozenset(
    {"reason", "type", "suppression_type", "suppression_reason", "category", "bounce_type", "event"}
)
STREAM_COLUMNS = frozenset({"stream", "message_stream", "messagestream", "unsubscribe_group", "group"})
# Words that say the person unsubscribed: with a stream, from that stream only.
UNSUBSCRIBE_WORDS = frozenset(
    {
        "unsubscribe",
        "unsubscribed",
        "unsubscribes",
        "unsub",
        "list_unsubscribe",
        "opt_out",
        "optout",
        "opted_out",
    }
)
NOTE_COLUMNS = frozenset({"note", "notes", "comment", "comments", "description", "detail", "error"})
DATE_COLUMNS = frozenset(
    {
        "date",
        "created_at",
        "created",
        "timestamp",
        "since",
        "suppressed_at",
        "added_at",
        "last_update_time",
        "lastupdatetime",
        "unsub_time",
        "updated_at",
    }
)

# Foreign reason words → our reasons. Unsubscribes and opt-outs become ``manual``: the
# person asked not to be mailed, which is neither a bounce nor a complaint. Soft bounces
# stay temporary (they expire like our own). Anything else is a bad row, not a guess.
REASON_WORDS: dict[str, Reason] = {
    **dict.fromkeys(
        [
            "hard_bounce",
            "hardbounce",
            "hard",
            "bounce",
            "bounced",
            "bounces",
            "permanent",
            "permanent_bounce",
            "invalid",
            "invalid_email",
            "invalid_emails",
            "bad_address",
        ],
        Reason.HARD_BOUNCE,
    ),
    **dict.fromkeys(
        ["soft_bounce", "softbounce", "soft", "transient", "transient_bounce"], Reason.SOFT_BOUNCE
    ),
    **dict.fromkeys(
        [
            "complaint",
            "complaints",
            "complained",
            "spam",
            "spam_report",
            "spamreport",
            "spam_reports",
            "spam_complaint",
            "abuse",
            "fbl",
        ],
        Reason.COMPLAINT,
    ),
    **dict.fromkeys(
        [
            "manual",
            "manually_added",
            "unsubscribe",
            "unsubscribed",
            "unsubscribes",
            "unsub",
            "global_unsubscribe",
            "list_unsubscribe",
            "opt_out",
            "optout",
            "opted_out",
            "do_not_mail",
            "do_not_contact",
            "suppressed",
        ],
        Reason.MANUAL,
    ),
}

# A file's date may be a little ahead of our clock (another machine's clock), not more.
_CLOCK_SKEW = timedelta(days=1)
_SEPARATORS = re.compile(r"[\s\-./]+")


@dataclass(frozen=True)
class ImportEntry:
    """One valid row: a normalised address and what to suppress it for."""

    line: int
    address: str
    reason: Reason
    note: str | None = None
    since: datetime | None = None  # the source's date, when it has one
    # A per-stream entry's scope: an unsubscribe's stream, or ALL_BULK for a complaint about bulk mail.
    stream: str | None = None


@dataclass(frozen=True)
class RowError:
    """A row that was skipped, with the line it is on and the field that is wrong."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


def column_key(name: str) -> str:
    return _SEPARATORS.sub("_", name.strip().lower()).strip("_")


def parse_reason(text: str) -> Reason:
    """A reason word in any provider's spelling → our reason; empty means ``manual``."""
    key = column_key(text)
    if not key:
        return Reason.MANUAL
    if key in REASON_WORDS:
        return REASON_WORDS[key]
    raise ValueError(f"unknown reason {text.strip()[:40]!r}; see the README for the words understood")


def parse_date(text: str, now: datetime) -> datetime | None:
    """ISO 8601 (date, or date and time; no offset means UTC) or epoch seconds/milliseconds."""
    value = text.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        try:
            number = int(value)
            moment = datetime.fromtimestamp(number / 1000 if number > 10**11 else number, UTC)
        except (ValueError, OverflowError, OSError):
            # Past year 9999 (or a float, or time_t): a bad row, not the end of the import.
            raise ValueError("epoch seconds or milliseconds out of range") from None
    else:
        try:
            moment = datetime.fromisoformat(value.replace(" UTC", "Z"))
        except ValueError:
            raise ValueError("not an ISO 8601 date or epoch seconds") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    if moment > now + _CLOCK_SKEW:
        raise ValueError("date is in the future")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class _Layout:
    address: int
    reason: int | None
    note: int | None
    date: int | None
    stream: int | None = None


_POSITIONAL = _Layout(address=0, reason=1, note=2, date=3)


def _header_layout(cells: list[str]) -> _Layout | None:
    """The layout a header row names, or None when the row is not a header."""
    keys = [column_key(cell) for cell in cells]

    def find(names: frozenset[str]) -> int | None:
        return next((i for i, key in enumerate(keys) if key in names), None)

    address = find(ADDRESS_COLUMNS)
    if address is None:
        return None
    return _Layout(
        address=address,
        reason=find(REASON_COLUMNS),
        note=find(NOTE_COLUMNS),
        date=find(DATE_COLUMNS),
        stream=find(STREAM_COLUMNS),
    )


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def parse_row(
    cells: list[str], line: int, layout: _Layout, now: datetime, reason_override: Reason | None = None
) -> ImportEntry | RowError:
    try:
        address = normalize_address(_cell(cells, layout.address))
    except InvalidAddress as exc:
        return RowError(line, "address", str(exc))
    if reason_override is not None:
        reason = reason_override
    else:
        try:
            reason = parse_reason(_cell(cells, layout.reason))
        except ValueError as exc:
            return RowError(line, "reason", str(exc))
    stream = _cell(cells, layout.stream).strip() or None
    if stream == ALL_BULK:
        if reason is not Reason.COMPLAINT or reason_override is not None:
            return RowError(
                line, "stream", f"{ALL_BULK} (every bulk stream) is for complaints about bulk mail"
            )
    elif stream is not None:
        if not is_stream_name(stream) and stream != ALL_BULK_UNSUBSCRIBED:
            return RowError(line, "stream", STREAM_RULE)
        if column_key(_cell(cells, layout.reason)) not in UNSUBSCRIBE_WORDS or reason_override is not None:
            return RowError(
                line, "stream", "only unsubscribes are per stream; other reasons block every stream"
            )
        reason = Reason.UNSUBSCRIBED
    note = _cell(cells, layout.note).strip() or None
    if note is not None and len(note) > NOTE_MAX:
        return RowError(line, "note", f"longer than {NOTE_MAX} characters")
    try:
        since = parse_date(_cell(cells, layout.date), now)
    except ValueError as exc:
        return RowError(line, "date", str(exc))
    return ImportEntry(line=line, address=address, reason=reason, note=note, since=since, stream=stream)


def utf8_problem(chunks: Iterable[bytes]) -> str | None:
    """Where a file stops being UTF-8 text, as ``line N: why``; None when all of it is.

    Read before any row is imported, so that a file in another encoding (a spreadsheet's
    Latin-1 or UTF-16 "CSV") is refused whole: decoding it with replacement characters would
    store notes, or even addresses, that the file does not hold.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    for chunk in chunks:
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            # exc.object is what the decoder held: the chunk, after any partial character before it.
            line += exc.object.count(b"\n", 0, exc.start)
            return f"line {line}: byte 0x{exc.object[exc.start]:02x} is not UTF-8"
        if "\0" in text:
            return f"line {line + text.count(chr(10), 0, text.index(chr(0)))}: a NUL byte (a binary file?)"
        line += text.count("\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return f"line {line}: the file ends inside a UTF-8 character"
    return None


_CELL_SEPARATORS = (",", ";", "\t")


def separator(first_row: str) -> str:
    """The file's separator, read from its first row: a spreadsheet saves "CSV" with ';' in many
    locales, and text with tabs. The one found most often outside quotes; ',' on a tie or none."""
    outside_quotes = "".join(first_row.split('"')[::2])
    return max(_CELL_SEPARATORS, key=outside_quotes.count)  # the first of equals: ','


def read_rows(
    lines: Iterable[str], now: datetime, reason_override: Reason | None = None
) -> Iterator[ImportEntry | RowError]:
    """Every data row of a CSV file, in order, as an entry or an error (one row at a time)."""
    lines = iter(lines)
    peeked: list[str] = []
    for line in lines:
        peeked.append(line)
        if line.strip() and not line.lstrip().startswith("#"):
            break
    reader = csv.reader(itertools.chain(peeked, lines), delimiter=separator(peeked[-1]) if peeked else ",")
    layout: _Layout | None = None
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith("#"):
                continue
            if layout is None:
                layout = _header_layout(cells)
                if layout is not None:
                    continue  # the header row itself
                layout = _POSITIONAL
            yield parse_row(cells, reader.line_num, layout, now, reason_override)
    except csv.Error as exc:
        # An unterminated quote swallows the rest of the file: say where, and stop there.
        yield RowError(reader.line_num, "csv", str(exc))
