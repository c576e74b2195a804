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

A file the CSV reader cannot read as a whole is a ``FileProblem`` naming the line where the
trouble starts, and ``file_problem`` finds it before any row is imported: a quoted field that
runs over a line break outside the note column (a quote left open swallows the rows after it
into one field), a quote never closed or followed by more text, a field
over the csv module's limit, a NUL, a header row without an address column, or one that names
a column twice (``email`` and ``email_address``: which one holds the address?). So every data
row of a file the reader accepts (one line, or more for a note that holds a line break) is
imported, counted, or named by the line it starts on.
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
    raise ValueError(f"unknown reason {text.strip()[:40]!r}; docs/operating.md lists the words understood")


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

# Each column a header may name, by what it holds (the words in ``column_key`` form).
_ROLES = {
    "address": ADDRESS_COLUMNS,
    "reason": REASON_COLUMNS,
    "note": NOTE_COLUMNS,
    "date": DATE_COLUMNS,
    "stream": STREAM_COLUMNS,
}


class FileProblem(ValueError):
    """The file cannot be read as a whole; ``line`` is where the problem starts."""

    def __init__(self, line: int, what: str) -> None:
        super().__init__(f"line {line}: {what}")
        self.line = line
        self.what = what


def _layout(cells: list[str], line: int) -> _Layout:
    """The layout of the file whose first row is ``cells``: positional when it holds an
    address (an '@'), else a header that must name one address column and no column twice."""
    if any("@" in cell for cell in cells):
        return _POSITIONAL
    found: dict[str, list[int]] = {
        role: [i for i, cell in enumerate(cells) if column_key(cell) in names]
        for role, names in _ROLES.items()
    }
    for role, columns in found.items():
        if len(columns) > 1:
            named = " and ".join(repr(cells[i].strip()) for i in columns)
            raise FileProblem(line, f"the header names the {role} column twice ({named}): keep one")
    if not found["address"]:
        raise FileProblem(
            line,
            "a header row (no cell holds an '@') with no address column: name it one of "
            + ", ".join(sorted(ADDRESS_COLUMNS)),
        )

    def index(role: str) -> int | None:
        return found[role][0] if found[role] else None

    return _Layout(
        address=found["address"][0],
        reason=index("reason"),
        note=index("note"),
        date=index("date"),
        stream=index("stream"),
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


def _records(lines: Iterable[str]) -> Iterator[tuple[int, int, list[str]]]:
    """Every data record (not blank, not a ``#`` comment) with the lines it starts and ends on;
    a ``FileProblem`` where the reader cannot go on."""
    lines = iter(lines)
    peeked: list[str] = []
    for line in lines:
        peeked.append(line)
        if line.strip() and not line.lstrip().startswith("#"):
            break
    # strict: a quote left open is an error at the end of the file, not a last field that
    # swallowed every line after it.
    delimiter = separator(peeked[-1]) if peeked else ","
    reader = csv.reader(itertools.chain(peeked, lines), delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileProblem(start, _csv_words(str(exc))) from None
        if any("\0" in cell for cell in cells):
            raise FileProblem(start, "a NUL character (a binary file?)")
        if not any(cell.strip() for cell in cells) or cells[0].lstrip().startswith("#"):
            continue
        yield start, reader.line_num, cells


def _laid_out(lines: Iterable[str]) -> Iterator[tuple[int, list[str], _Layout]]:
    """Every data row with its line and the file's layout (the header row itself left out).

    A quoted field may hold a line break in the note column only (a note exported with one
    reads back as it was). Anywhere else, or in a note that would hide rows (an '@' on a later
    line, or more than a note may hold), it is taken for a quote left open, swallowing the rows
    after it into one field, and the file is refused at the line where it starts."""
    layout: _Layout | None = None
    for start, end, cells in _records(lines):
        if layout is None:
            layout = _layout(cells, start)
            if layout is not _POSITIONAL:
                continue  # the header row itself
        if end != start:
            _one_row(cells, start, end, layout)
        yield start, cells, layout


def _csv_words(said: str) -> str:
    """The csv module's complaint, in words that say what to fix."""
    if "field limit" in said:
        return f"a field of more than {csv.field_size_limit():,} characters (a quote left open?)"
    if "unexpected end of data" in said:
        return "a quote opened here is never closed"
    if "expected after" in said:
        return "a quoted field goes on after its closing quote (write a quote inside quotes as two)"
    return f"not CSV: {said}"


def _one_row(cells: list[str], start: int, end: int, layout: _Layout) -> None:
    """A record over lines ``start`` to ``end``: refused unless its only line breaks are in a note
    that cannot be rows swallowed by a quote left open."""
    runs_on = f"a quoted field runs on to line {end} (a quote left open?)"
    for index, cell in enumerate(cells):
        if "\n" not in cell and "\r" not in cell:
            continue
        if index != layout.note:
            raise FileProblem(start, f"{runs_on}: only a note may hold a line break")
        later = re.split(r"\r\n|\r|\n", cell, maxsplit=1)[1]
        if "@" in later or len(cell.strip()) > NOTE_MAX:
            raise FileProblem(
                start,
                f"{runs_on}: a note over several lines holds no address and at most {NOTE_MAX} characters",
            )


def file_problem(lines: Iterable[str]) -> str | None:
    """What stops the file being read as a whole, as ``line N: what``; None when nothing does.

    Run over the whole file before any row is imported (``read_rows`` would meet it only
    after the rows before it were written)."""
    try:
        for _ in _laid_out(lines):
            pass
    except FileProblem as exc:
        return str(exc)
    return None


def read_rows(
    lines: Iterable[str], now: datetime, reason_override: Reason | None = None
) -> Iterator[ImportEntry | RowError]:
    """Every data row of a CSV file, in order, as an entry or an error (one row at a time).

    Raises ``FileProblem`` where the file cannot be read as a whole: check it with
    ``file_problem`` first, so that nothing is imported from such a file."""
    for line, cells, layout in _laid_out(lines):
        yield parse_row(cells, line, layout, now, reason_override)
