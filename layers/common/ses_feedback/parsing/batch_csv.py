"""A batch's recipients as a CSV file: a header row with a ``to`` column and one column per
template field, then one recipient per line. Pure: lines in, recipients and bad lines out.

A line that cannot be a recipient (a missing address, more or fewer cells than the header)
is a ``BadLine`` naming its line number and why, and the other lines are still read; whether
an address is one SES can deliver to is ``POST /batches``'s to say (its refusals name the
recipient's index, which ``line_of`` turns back into the line). Blank lines are skipped.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ses_feedback.errors import InvalidRequest

TO_COLUMN = "to"


@dataclass(frozen=True)
class BadLine:
    line: int  # 1 is the header
    message: str


@dataclass
class RecipientsFile:
    recipients: list[dict[str, Any]] = field(default_factory=list)  # {"to", "data"}, as POST /batches takes
    lines: list[int] = field(default_factory=list)  # the line of each recipient
    bad: list[BadLine] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)  # the template fields (every column but to)

    def line_of(self, index: int) -> int:
        return self.lines[index]


def read_recipients(lines: Iterable[str]) -> RecipientsFile:
    """The recipients of a CSV file; raises ``InvalidRequest`` if its header has no ``to`` column."""
    reader = csv.reader(lines)
    header: list[str] | None = None
    result = RecipientsFile()
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip().lstrip("\ufeff").lower() for cell in row]
            if TO_COLUMN not in header:
                raise InvalidRequest.of(
                    "recipients", f"the first line must name the columns, one of them '{TO_COLUMN}'"
                )
            duplicated = sorted({name for name in header if header.count(name) > 1})
            if duplicated:
                raise InvalidRequest.of("recipients", f"column '{duplicated[0]}' is named twice")
            result.fields = [name for name in header if name != TO_COLUMN]
            continue
        line = reader.line_num
        if len(row) != len(header):
            result.bad.append(BadLine(line, f"{len(row)} cells where the header names {len(header)}"))
            continue
        cells = dict(zip(header, (cell.strip() for cell in row), strict=True))
        to = cells.pop(TO_COLUMN)
        if not to:
            result.bad.append(BadLine(line, f"'{TO_COLUMN}' is empty"))
            continue
        result.recipients.append({"to": to, "data": cells} if cells else {"to": to})
        result.lines.append(line)
    if header is None:
        raise InvalidRequest.of("recipients", "the file is empty")
    return result
