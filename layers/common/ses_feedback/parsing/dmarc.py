"""DMARC aggregate reports as reporters send them, read with hard limits.

Reports arrive by mail from anyone, so every input is hostile until read: the form is
found from the bytes, never from a file name or a MIME label (reporters mislabel zip as
gzip and XML as octet-stream); XML is read by defusedxml with DTDs and entities refused
and the element depth capped; decompressed bytes (all archives of one input together),
archive nesting, zip members and MIME parts are capped. What is not a report gets a
reason, never a traceback.

Two decisions beyond the RFCs, both kept narrow:
- a ``<feedback>`` element that closed well-formed is read even when what follows it is
  not (a reporter wraps reports in an ``xs:schema`` element it never closes); nothing
  inside the report is repaired;
- bytes that are not valid UTF-8 in a UTF-8 document are refused, not guessed at.
"""

from __future__ import annotations

import email
import email.policy
import io
import ipaddress
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.policy import Policy
from typing import IO
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from ses_feedback.errors import UnreadableReport
from ses_feedback.model.dmarc import (
    AuthResults,
    DkimResult,
    DmarcRecord,
    DmarcReport,
    PublishedPolicy,
    SpfResult,
)

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")
_CONTENT_TYPE_LINE = re.compile(rb"^content-type:", re.IGNORECASE | re.MULTILINE)
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ReadLimits:
    # SES receiving takes messages up to 40 MB; nothing bigger reaches the function.
    max_input_bytes: int = 40 * 2**20
    # All bytes that archives of one input expand to, together: the 2,286-record sample is
    # 0.9 MB; Google's biggest daily reports are a few MB.
    max_expanded_bytes: int = 32 * 2**20
    max_archive_depth: int = 3
    max_zip_members: int = 20
    max_mime_parts: int = 100
    # A report is 6 elements deep; a wrapper or two more is what reporters do.
    max_xml_depth: int = 16
    # About 25 elements a record: room for 40,000 records; the tree stays within a few
    # hundred MB however the bytes are shaped (a flat run of empty elements included).
    max_xml_elements: int = 1_000_000


DEFAULT_LIMITS = ReadLimits()


@dataclass
class ReadOutcome:
    """The reports one input held, and why any part that looked like a report was not read."""

    reports: list[DmarcReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # What was read but is worth saying (broken XML after a complete report, ignored).
    notes: list[str] = field(default_factory=list)


class _Refused(Exception):
    """A limit was hit: the whole input is refused at once, nothing more is read."""


class _NotAReport(Exception):
    """This part holds no readable report; other parts of the input may."""


def read_reports(data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> ReadOutcome:
    """Every report in ``data`` (XML, gzip, zip, nested, or a mail message carrying them).

    Raises ``UnreadableReport`` when the input breaks a limit or holds no readable report.
    """
    if len(data) > limits.max_input_bytes:
        raise UnreadableReport(f"{len(data)} bytes is more than the {limits.max_input_bytes} a report may be")
    reader = _Reader(limits)
    try:
        reader.read(data, depth=0)
    except (_Refused, _NotAReport) as refusal:
        raise UnreadableReport(str(refusal)) from None
    if not reader.outcome.reports:
        reason = "; ".join(reader.outcome.problems) or "no DMARC aggregate report in it"
        raise UnreadableReport(reason)
    return reader.outcome


class _Reader:
    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self.expanded_left = limits.max_expanded_bytes
        self.outcome = ReadOutcome()

    def read(self, data: bytes, depth: int) -> None:
        if data.startswith(_GZIP_MAGIC):
            self.read(self._gunzip(data), self._deeper(depth))
        elif data.startswith(_ZIP_MAGIC):
            self._read_zip(data, self._deeper(depth))
        elif _looks_like_xml(data):
            if len(data) > self.limits.max_expanded_bytes:
                raise _Refused(f"XML of {len(data)} bytes (at most {self.limits.max_expanded_bytes})")
            self.outcome.reports.append(parse_report_xml(data, self.limits, self.outcome.notes))
        elif _HEADER_LINE.match(data):
            self._read_message(data, depth)
        else:
            raise _NotAReport("neither XML, gzip, zip nor a mail message")

    def _deeper(self, depth: int) -> int:
        if depth + 1 > self.limits.max_archive_depth:
            raise _Refused(f"archives nested more than {self.limits.max_archive_depth} deep")
        return depth + 1

    def _spend(self, size: int) -> None:
        self.expanded_left -= size
        if self.expanded_left < 0:
            raise _Refused(f"expands to more than {self.limits.max_expanded_bytes} bytes")

    def _gunzip(self, data: bytes) -> bytes:
        pieces: list[bytes] = []
        rest = data
        while True:
            stream = zlib.decompressobj(wbits=31)
            pending = rest
            try:
                while not stream.eof:
                    # max_length bounds what one call may allocate: a bomb stops at the cap.
                    piece = stream.decompress(pending, min(_CHUNK, self.expanded_left + 1))
                    self._spend(len(piece))
                    pieces.append(piece)
                    pending = stream.unconsumed_tail
                    if not pending and not stream.eof:
                        raise _NotAReport("the gzip stream is cut short")
            except zlib.error as problem:
                raise _NotAReport(f"not a readable gzip stream: {problem}") from None
            rest = stream.unused_data
            if not rest.strip():  # a mailer's trailing line break is not data
                return b"".join(pieces)
            if not rest.startswith(_GZIP_MAGIC):
                raise _NotAReport(f"{len(rest)} bytes after the end of the gzip stream")

    def _read_zip(self, data: bytes, depth: int) -> None:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            members = [info for info in archive.infolist() if not info.is_dir()]
            if len(members) > self.limits.max_zip_members:
                raise _Refused(f"a zip of {len(members)} files (at most {self.limits.max_zip_members})")
            for info in members:
                # The sizes in a zip's headers are the sender's word: count what comes out.
                with archive.open(info) as stream:
                    member = self._take(stream)
                self._read_part(member, depth, info.filename)
        except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError) as problem:
            raise _NotAReport(f"not a readable zip: {problem}") from None

    def _take(self, stream: IO[bytes]) -> bytes:
        pieces: list[bytes] = []
        while piece := stream.read(min(_CHUNK, self.expanded_left + 1)):
            self._spend(len(piece))
            pieces.append(piece)
        return b"".join(pieces)

    def _read_part(self, data: bytes, depth: int, name: str) -> None:
        try:
            self.read(data, depth)
        except _NotAReport as problem:
            self.outcome.problems.append(f"{name}: {problem}")

    def _read_message(self, data: bytes, depth: int) -> None:
        # Counted before parsing: the parser would build every part (and recurse into nested
        # multiparts) before a walk could count them.
        declared = len(_CONTENT_TYPE_LINE.findall(data))
        if declared > self.limits.max_mime_parts:
            raise _Refused(f"a message of {declared} MIME parts (at most {self.limits.max_mime_parts})")
        # A part needs no Content-Type line (a bare delimiter makes one), so the parser counts
        # too, and stops at the limit: every leaf part and at most one multipart around each.
        message = email.message_from_bytes(
            data, _class=_counting_parts(2 * self.limits.max_mime_parts), policy=email.policy.compat32
        )
        if not message.keys():
            raise _NotAReport("neither XML, gzip, zip nor a mail message")
        parts = [part for part in message.walk() if not part.is_multipart()]
        if len(parts) > self.limits.max_mime_parts:
            raise _Refused(f"a message of {len(parts)} MIME parts (at most {self.limits.max_mime_parts})")
        for number, part in enumerate(parts, start=1):
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                continue
            # A report may be labelled anything; a human-readable note is skipped quietly.
            if payload.startswith((_GZIP_MAGIC, _ZIP_MAGIC)) or _looks_like_xml(payload):
                label = part.get_filename() or f"part {number} ({part.get_content_type()})"
                self._read_part(payload, depth, label)
        if not self.outcome.reports and not self.outcome.problems:
            types = ", ".join(sorted({part.get_content_type() for part in parts})) or "no parts"
            raise _NotAReport(f"a mail message without a report in it ({types})")


def _counting_parts(most: int) -> Callable[..., Message]:
    """The email parser's message factory (called once a part), refusing past ``most`` parts."""
    made = 0

    def part(policy: Policy = email.policy.compat32) -> Message:
        nonlocal made
        made += 1
        if made > most:
            raise _Refused(f"a message of more than {most} MIME parts and multiparts")
        return Message(policy)

    return part


def _looks_like_xml(data: bytes) -> bool:
    for bom in _BOMS:
        if data.startswith(bom):
            return True
    return data.lstrip()[:1] == b"<"


# ---- the XML ------------------------------------------------------------------------------


class _Builder:
    """Builds the tree with local names (namespaces dropped), refusing deep nesting early."""

    def __init__(self, limits: ReadLimits) -> None:
        self._tree = TreeBuilder()
        self._depth = 0
        self._elements = 0
        self._limits = limits
        self.feedback: Element | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self._depth += 1
        self._elements += 1
        if self._depth > self._limits.max_xml_depth:
            raise _Refused(f"XML nested more than {self._limits.max_xml_depth} elements deep")
        if self._elements > self._limits.max_xml_elements:
            raise _Refused(f"XML of more than {self._limits.max_xml_elements} elements")
        self._tree.start(_local(tag), {})

    def end(self, tag: str) -> None:
        self._depth -= 1
        element = self._tree.end(_local(tag))
        if element.tag == "feedback" and self.feedback is None:
            self.feedback = element

    def data(self, text: str) -> None:
        self._tree.data(text)

    def close(self) -> Element:
        return self._tree.close()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_report_xml(
    data: bytes, limits: ReadLimits = DEFAULT_LIMITS, notes: list[str] | None = None
) -> DmarcReport:
    """One ``<feedback>`` document → a report; ``_NotAReport`` / ``_Refused`` say why not."""
    _check_utf8(data)
    builder = _Builder(limits)
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        # Stray whitespace before the XML declaration is the one thing expat would trip on.
        parser.feed(data.lstrip(b" \t\r\n"))
        parser.close()
    except DefusedXmlException:
        raise _Refused("XML with a DTD or entity declarations is refused") from None
    except ParseError as problem:
        if builder.feedback is None:
            raise _NotAReport(f"not well-formed XML: {problem}") from None
        # The report closed well-formed; only what follows it is broken (see the module doc).
        if notes is not None:
            notes.append(f"ignored what follows the report, which is not well-formed XML: {problem}")
    if builder.feedback is None:
        raise _NotAReport("the XML is not a DMARC aggregate report (no <feedback> element)")
    try:
        return _report(builder.feedback)
    except ValueError as problem:  # pydantic's ValidationError included
        raise _NotAReport(f"not a DMARC aggregate report: {_first_line(problem)}") from None


def _check_utf8(data: bytes) -> None:
    if data.startswith(_BOMS[1:]):
        return
    declared = _XML_ENCODING.match(data.removeprefix(_BOMS[0]))
    if declared and declared.group(1).lower().replace(b"_", b"-") not in {b"utf-8", b"utf8"}:
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as problem:
        line = data.count(b"\n", 0, problem.start) + 1
        raise _NotAReport(
            f"not valid UTF-8: byte 0x{data[problem.start]:02x} on line {line} (refused, not guessed at)"
        ) from None


def _first_line(problem: Exception) -> str:
    lines = str(problem).splitlines()
    return " ".join(line.strip() for line in lines[:3])


def _text(element: Element, path: str) -> str | None:
    found = element.find(path)
    if found is None:
        return None
    text = (found.text or "").strip()
    return text or None


def _lower(element: Element, path: str) -> str | None:
    text = _text(element, path)
    return text.lower() if text else None


def _required(element: Element, path: str, where: str) -> str:
    text = _text(element, path)
    if text is None:
        raise ValueError(f"{where}{path} is missing")
    return text


def _number(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{what}: {text[:40]!r} is not a whole number") from None


def _moment(text: str, what: str) -> datetime:
    try:
        return datetime.fromtimestamp(_number(text, what), UTC)
    except (OverflowError, OSError):
        raise ValueError(f"{what}: {text[:40]!r} is not a time") from None


def _report(feedback: Element) -> DmarcReport:
    metadata = feedback.find("report_metadata")
    published = feedback.find("policy_published")
    if metadata is None or published is None:
        raise ValueError("report_metadata or policy_published is missing")
    pct = _text(published, "pct")
    policy = PublishedPolicy(
        p=_required(published, "p", "policy_published/").lower(),
        sp=_lower(published, "sp"),
        np=_lower(published, "np"),
        adkim=_lower(published, "adkim"),
        aspf=_lower(published, "aspf"),
        pct=None if pct is None else _number(pct, "policy_published/pct"),
        testing=_lower(published, "testing"),
    )
    records = tuple(
        _record(element, number) for number, element in enumerate(feedback.iterfind("record"), start=1)
    )
    return DmarcReport(
        org_name=_text(metadata, "org_name") or "",
        email=_text(metadata, "email"),
        report_id=_required(metadata, "report_id", "report_metadata/"),
        domain=_required(published, "domain", "policy_published/").lower(),
        begin=_moment(_required(metadata, "date_range/begin", "report_metadata/"), "date_range/begin"),
        end=_moment(_required(metadata, "date_range/end", "report_metadata/"), "date_range/end"),
        policy=policy,
        records=records,
    )


def _record(record: Element, number: int) -> DmarcRecord:
    where = f"record {number}: "
    source_ip = _required(record, "row/source_ip", where)
    try:
        ipaddress.ip_address(source_ip)
    except ValueError:
        raise ValueError(f"{where}row/source_ip {source_ip[:60]!r} is not an IP address") from None
    evaluated = record.find("row/policy_evaluated")
    if evaluated is None:
        raise ValueError(f"{where}row/policy_evaluated is missing")
    return DmarcRecord(
        source_ip=source_ip,
        count=_number(_required(record, "row/count", where), f"{where}row/count"),
        disposition=_required(evaluated, "disposition", f"{where}row/policy_evaluated/").lower(),
        dkim=_lower(evaluated, "dkim"),
        spf=_lower(evaluated, "spf"),
        header_from=_required(record, "identifiers/header_from", where).lower(),
        envelope_from=_lower(record, "identifiers/envelope_from"),
        auth_results=_auth_results(record),
    )


def _auth_results(record: Element) -> AuthResults:
    dkim: list[DkimResult] = []
    spf: list[SpfResult] = []
    for result in record.iterfind("auth_results/dkim"):
        dkim.append(
            DkimResult(
                domain=_lower(result, "domain") or "",
                selector=_text(result, "selector"),
                result=_lower(result, "result"),
            )
        )
    for result in record.iterfind("auth_results/spf"):
        spf.append(
            SpfResult(
                domain=_lower(result, "domain") or "",
                scope=_lower(result, "scope"),
                result=_lower(result, "result"),
            )
        )
    return AuthResults(dkim=tuple(dkim), spf=tuple(spf))
