"""The DMARC report reader: every published sample read right or refused for its reason,
and hostile input refused within the reader's limits (bounded time and memory)."""

from __future__ import annotations

import base64
import gzip
import io
import tracemalloc
import zipfile
import zlib
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from ses_feedback.errors import UnreadableReport
from ses_feedback.parsing.dmarc import DEFAULT_LIMITS, ReadLimits, read_reports

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "dmarc"
LARGE = "aggregate/!large-example.com!1711897200!1711983600.xml"

# file → (org_name, report_id, domain, records, messages, dmarc_pass), read off the files by hand.
READABLE = {
    "aggregate/!example.com!1538204542!1538463818.xml": (
        "",
        "example.com:1538463741",
        "example.com",
        1,
        1,
        0,
    ),
    LARGE: ("", "example.com:1711897200", "example.com", 2286, 2286, 0),
    "aggregate/Report domain- borschow.com Submitter- google.com Report-ID- 949348866075514174.eml": (
        "google.com",
        "949348866075514174",
        "borschow.com",
        1,
        1,
        0,
    ),
    "aggregate/addisonfoods.com!example.com!1536105600!1536191999.xml": (
        "addisonfoods.com",
        "3ceb5548498640beaeb47327e202b0b9",
        "example.com",
        1,
        1,
        0,
    ),
    "aggregate/empty_reason.xml": ("example.org", "20240125141224705995", "example.com", 1, 2, 2),
    "aggregate/estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml.zip": (
        "XYZ Corporation",
        "2940",
        "example.com",
        1,
        1,
        0,
    ),
    "aggregate/example.net!example.com!1529366400!1529452799.xml": (
        "example.net",
        "b043f0e264cf4ea995e93765242f6dfb",
        "example.com",
        1,
        1,
        0,
    ),
    "aggregate/fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz": (
        "FastMail Pty Ltd",
        "102675056",
        "indemed.com",
        1,
        1,
        0,
    ),
    # Unclosed <xs:schema> wrapper: the <feedback> inside closed well-formed, so it is read.
    "aggregate/ikea.com!example.de!1538690400!1538776800.xml": (
        "ikea.com",
        "aggr_report_2018_10_05_5bc7e9b4f3e8a",
        "example.de",
        1,
        1,
        0,
    ),
    # A gzip attachment followed by a line break (Mimecast).
    "aggregate/mimecast-weird-gzip.eml": (
        "Mimecast",
        "157a5fe30ec76f4bc0d8bccfc96c118a167a1280fee7c7465af5115e73082e5e",
        "ab.id.au",
        1,
        1,
        1,
    ),
    "aggregate/old_draft_from_wiki.xml": ("acme.com", "9391651994964116463", "example.com", 1, 2, 2),
    "aggregate/protection.outlook.com!example.com!1711756800!1711843200.xml": (
        "Outlook.com",
        "cfeafefe4129445e8c81018bd9177197",
        "example.com",
        1,
        1,
        0,
    ),
    "aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml": (
        "example.net",
        "dmarcbis-test-report-001",
        "example.com",
        2,
        7,
        5,
    ),
    "aggregate/rfc9990-sample.xml": (
        "Sample Reporter",
        "3v98abbp8ya9n3va8yr8oa3ya",
        "example.com",
        1,
        123,
        123,
    ),
    "aggregate/twilight.eml": ("google.com", "1627703331531660819", "twlnet.com", 1, 1, 1),
    "aggregate/usssa.com!example.com!1538784000!1538870399.xml": (
        "usssa.com",
        "8953b4d4a4ee4218b6ac0e2cb2667ee1",
        "example.com",
        2,
        2,
        0,
    ),
    "aggregate/veeam.com!example.com!1530133200!1530219600.xml": (
        "veeam.com",
        "sonexushealth.com:1530233361",
        "example.com",
        1,
        1,
        0,
    ),
    "aggregate_invalid/report_with_upper_cased_pass.xml": (
        "example.com",
        "aggr_report_example.com_20191202_1638",
        "example.com",
        1,
        1,
        1,
    ),
    "extract_report/nice-input.xml": ("google.com", "11038226378739404135", "example.com", 20, 3047, 3047),
    "extract_report/nice-input.xml.gz": ("google.com", "11038226378739404135", "example.com", 20, 3047, 3047),
    "extract_report/nice-input.xml.zip": (
        "google.com",
        "11038226378739404135",
        "example.com",
        20,
        3047,
        3047,
    ),
    "extract_report/changed-input.xml": ("fred.com", "11038226378739404135", "example.com", 20, 3047, 3047),
}

REFUSED = {
    # One byte (0x91) that is not UTF-8 in a UTF-8 document: guessing would rewrite a domain.
    "aggregate/invalid_utf_8.xml": "not valid UTF-8: byte 0x91 on line 31",
    # <email><bad-xml@…></email>: the report itself is not well-formed.
    "aggregate/invalid_xml.xml": "not well-formed XML",
}


def test_every_sample_is_either_read_or_refused() -> None:
    files = {
        str(path.relative_to(SAMPLES))
        for path in SAMPLES.rglob("*")
        if path.is_file() and path.name not in {"SOURCES.md", "LICENSE-parsedmarc"}
    }
    assert files == set(READABLE) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(READABLE))
def test_sample_reads_right(name: str) -> None:
    org_name, report_id, domain, records, messages, dmarc_pass = READABLE[name]

    outcome = read_reports((SAMPLES / name).read_bytes())

    assert len(outcome.reports) == 1
    report = outcome.reports[0]
    assert (report.org_name, report.report_id, report.domain) == (org_name, report_id, domain)
    assert (len(report.records), report.messages, report.dmarc_pass) == (records, messages, dmarc_pass)
    assert outcome.problems == []


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_known_bad_sample_is_refused_with_its_reason(name: str) -> None:
    with pytest.raises(UnreadableReport, match=REFUSED[name]):
        read_reports((SAMPLES / name).read_bytes())


def test_broken_xml_after_a_complete_report_is_ignored_and_said() -> None:
    # The ikea sample wraps its report in an <xs:schema> element it never closes.
    outcome = read_reports((SAMPLES / "aggregate/ikea.com!example.de!1538690400!1538776800.xml").read_bytes())

    assert outcome.notes == [
        "ignored what follows the report, which is not well-formed XML: no element found: line 47, column 11"
    ]


def test_a_clean_report_has_no_notes() -> None:
    assert read_reports(VEEAM).notes == []


def test_rfc9990_fields_and_namespace_are_read() -> None:
    report = read_reports((SAMPLES / "aggregate/rfc9990-sample.xml").read_bytes()).reports[0]

    assert report.policy.model_dump() == {
        "p": "quarantine",
        "sp": "none",
        "np": "none",
        "adkim": None,
        "aspf": None,
        "pct": None,
        "testing": "n",
    }
    assert report.begin == datetime(1979, 8, 7, tzinfo=UTC)  # date -u -d @302832000
    record = report.records[0]
    assert (record.source_ip, record.count, record.disposition, record.dkim, record.spf) == (
        "192.0.2.123",
        123,
        "pass",
        "pass",
        "fail",
    )
    assert [(d.domain, d.selector, d.result) for d in record.auth_results.dkim] == [
        ("example.com", "abc123", "pass")
    ]
    assert [(s.domain, s.scope, s.result) for s in record.auth_results.spf] == [("example.com", None, "fail")]


def test_upper_case_values_are_read_as_lower_case() -> None:
    report = read_reports(
        (SAMPLES / "aggregate_invalid/report_with_upper_cased_pass.xml").read_bytes()
    ).reports[0]

    assert (report.records[0].disposition, report.records[0].dkim, report.records[0].spf) == (
        "none",
        "pass",
        "pass",
    )


def test_json_shape_of_a_report() -> None:
    report = read_reports(
        (SAMPLES / "aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml").read_bytes()
    )

    line = report.reports[0].as_json()

    assert line["begin"] == "2023-11-14T22:13:20Z"
    assert line["end"] == "2023-11-15T22:13:19Z"
    assert line["policy"] == {
        "p": "reject",
        "sp": "quarantine",
        "np": "reject",
        "adkim": "s",
        "aspf": "s",
        "pct": None,
        "testing": "y",
    }
    assert (line["messages"], line["dmarc_pass"]) == (7, 5)
    assert line["records"][1] == {
        "source_ip": "203.0.113.10",
        "count": 2,
        "disposition": "reject",
        "dkim": "fail",
        "spf": "fail",
        "header_from": "example.com",
        "envelope_from": "spoofed.example.com",
        "auth_results": {
            "dkim": [],
            "spf": [{"domain": "spoofed.example.com", "scope": "mfrom", "result": "fail"}],
        },
    }


# ---- the forms reporters send ------------------------------------------------------------

NICE = (SAMPLES / "extract_report/nice-input.xml").read_bytes()
VEEAM = (SAMPLES / "aggregate/veeam.com!example.com!1530133200!1530219600.xml").read_bytes()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_bom_crlf_and_leading_whitespace_are_read() -> None:
    data = b"\r\n  \xef\xbb\xbf" + VEEAM.replace(b"\n", b"\r\n")

    assert read_reports(data.lstrip()).reports[0].report_id == "sonexushealth.com:1530233361"
    assert read_reports(b"\r\n  " + VEEAM).reports[0].report_id == "sonexushealth.com:1530233361"


def test_nested_archives_and_mislabelled_parts_are_read() -> None:
    # Given a gzip inside a zip inside a mail part labelled text/plain, next to a plain XML
    # attachment labelled application/octet-stream
    message = EmailMessage()
    message["From"] = "reports@reporter.example"
    message["Subject"] = "Report domain: example.com"
    message.set_content("Here are your reports.")
    message.add_attachment(_zip({"inner.xml.gz": gzip.compress(NICE)}), maintype="text", subtype="plain")
    message.add_attachment(VEEAM, maintype="application", subtype="octet-stream", filename="r.xml")

    # When
    outcome = read_reports(message.as_bytes())

    # Then both reports are read, the human-readable note is skipped
    assert sorted(report.org_name for report in outcome.reports) == ["google.com", "veeam.com"]
    assert outcome.problems == []


def test_a_report_in_a_declared_single_byte_encoding_is_read() -> None:
    latin1 = VEEAM.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"').replace(
        b"<org_name>veeam.com</org_name>", "<org_name>Société Générale</org_name>".encode("latin-1")
    )

    assert read_reports(latin1).reports[0].org_name == "Société Générale"


def test_html_instead_of_xml_is_refused_with_a_reason() -> None:
    with pytest.raises(UnreadableReport, match="no <feedback> element"):
        read_reports(b"<html><body><p>Your DMARC report</p></body></html>")


def test_a_message_without_a_report_says_what_it_held() -> None:
    message = EmailMessage()
    message["Subject"] = "hello"
    message.set_content("no report here")

    with pytest.raises(UnreadableReport, match=r"a mail message without a report in it \(text/plain\)"):
        read_reports(message.as_bytes())


def test_a_file_that_is_nothing_known_is_refused() -> None:
    with pytest.raises(UnreadableReport, match="neither XML, gzip, zip nor a mail message"):
        read_reports(b"\x00\x01binary")


def test_a_missing_required_element_is_named() -> None:
    with pytest.raises(UnreadableReport, match="record 1: row/source_ip is missing"):
        read_reports(VEEAM.replace(b"<source_ip>199.230.200.36</source_ip>", b""))


def test_garbage_after_a_gzip_stream_is_refused() -> None:
    with pytest.raises(UnreadableReport, match="bytes after the end of the gzip stream"):
        read_reports(gzip.compress(VEEAM) + b"trailing junk")


# ---- hostile input: each refused by a limit, in bounded time and memory --------------------

TWO_GIB = 2 * 2**30


@pytest.fixture(scope="module")
def zero_bomb_deflate() -> tuple[bytes, int]:
    """2 GiB of zeros as one raw deflate stream (~2 MB) and its CRC-32, built in memory.

    After a full flush deflate forgets what came before, so every 4 MiB block of zeros
    compresses to the same bytes: compress one, repeat it (the stream stays valid).
    """
    block = bytes(2**22)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressor.compress(block)
    compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    blocks = TWO_GIB // len(block)
    deflated = repeated * blocks + compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    return deflated, crc


def _assert_refused_within_memory(data: bytes, reason: str, limits: ReadLimits = DEFAULT_LIMITS) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(UnreadableReport, match=reason):
            read_reports(data, limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The cap is what may be held, plus one chunk and the join: far from the 2 GiB it claims.
    assert peak < 3 * DEFAULT_LIMITS.max_expanded_bytes


def test_two_gib_of_zeros_as_gzip_is_refused(zero_bomb_deflate: tuple[bytes, int]) -> None:
    deflated, crc = zero_bomb_deflate
    bomb = (
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
        + deflated
        + crc.to_bytes(4, "little")
        + (TWO_GIB % 2**32).to_bytes(4, "little")
    )
    assert len(bomb) < 3 * 2**20

    _assert_refused_within_memory(bomb, f"expands to more than {DEFAULT_LIMITS.max_expanded_bytes} bytes")


def test_two_gib_of_zeros_as_zip_is_refused(zero_bomb_deflate: tuple[bytes, int]) -> None:
    deflated, crc = zero_bomb_deflate
    name = b"report.xml"
    # A zip64 entry written by hand from the same deflate stream (zipfile would deflate 2 GiB again).
    zip64_extra = (1).to_bytes(2, "little") + (16).to_bytes(2, "little")
    zip64_extra += TWO_GIB.to_bytes(8, "little") + len(deflated).to_bytes(8, "little")
    local = (
        b"PK\x03\x04"
        + (45).to_bytes(2, "little")
        + (0).to_bytes(2, "little")
        + (8).to_bytes(2, "little")
        + (0).to_bytes(4, "little")
        + crc.to_bytes(4, "little")
        + (0xFFFFFFFF).to_bytes(4, "little") * 2
        + len(name).to_bytes(2, "little")
        + len(zip64_extra).to_bytes(2, "little")
        + name
        + zip64_extra
    )
    central = (
        b"PK\x01\x02"
        + (45).to_bytes(2, "little") * 2
        + (0).to_bytes(2, "little")
        + (8).to_bytes(2, "little")
        + (0).to_bytes(4, "little")
        + crc.to_bytes(4, "little")
        + (0xFFFFFFFF).to_bytes(4, "little") * 2
        + len(name).to_bytes(2, "little")
        + len(zip64_extra).to_bytes(2, "little")
        + (0).to_bytes(2, "little") * 3
        + (0).to_bytes(4, "little")
        + (0).to_bytes(4, "little")
        + name
        + zip64_extra
    )
    body = local + deflated
    end = (
        b"PK\x05\x06"
        + (0).to_bytes(2, "little") * 2
        + (1).to_bytes(2, "little") * 2
        + len(central).to_bytes(4, "little")
        + len(body).to_bytes(4, "little")
        + (0).to_bytes(2, "little")
    )
    bomb = body + central + end
    # It is a real zip: the standard library lists one member of 2 GiB.
    assert [info.file_size for info in zipfile.ZipFile(io.BytesIO(bomb)).infolist()] == [TWO_GIB]

    _assert_refused_within_memory(bomb, f"expands to more than {DEFAULT_LIMITS.max_expanded_bytes} bytes")


def test_billion_laughs_is_refused() -> None:
    entities = "".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10))
    doctype = f'<!DOCTYPE feedback [<!ENTITY lol0 "lol">{entities}]>'
    bomb = f'<?xml version="1.0"?>{doctype}<feedback>&lol9;</feedback>'

    _assert_refused_within_memory(bomb.encode(), "DTD or entity declarations is refused")


def test_external_entity_naming_a_local_file_is_refused_without_its_content(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    report = VEEAM.decode().replace("<org_name>veeam.com</org_name>", "<org_name>&secret;</org_name>")
    report = report.replace(
        "<feedback>", f'<!DOCTYPE feedback [<!ENTITY secret SYSTEM "file://{secret}">]>\n<feedback>', 1
    )

    with pytest.raises(UnreadableReport, match="DTD or entity declarations is refused") as refusal:
        read_reports(report.encode())

    assert "TOP-SECRET" not in str(refusal.value)


def test_200000_deep_nesting_is_refused() -> None:
    bomb = b"<feedback>" + b"<a>" * 200_000 + b"</a>" * 200_000 + b"</feedback>"

    _assert_refused_within_memory(bomb, f"nested more than {DEFAULT_LIMITS.max_xml_depth} elements deep")


def test_a_flat_run_of_millions_of_elements_is_refused() -> None:
    # Shallow and small on the wire (4 bytes an element), but a tree of millions of nodes;
    # the limit is lowered here so the test stays quick: the count is what stops it.
    limits = ReadLimits(max_xml_elements=20_000)
    bomb = b"<feedback>" + b"<a/>" * 2_000_000 + b"</feedback>"

    _assert_refused_within_memory(bomb, "XML of more than 20000 elements", limits)


def test_a_message_of_3000_parts_is_refused() -> None:
    boundary = "b0undary"
    parts = "".join(
        f"--{boundary}\r\nContent-Type: application/gzip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{base64.b64encode(gzip.compress(VEEAM)).decode()}\r\n"
        for _ in range(3000)
    )
    message = (
        f"From: r@reporter.example\r\nSubject: reports\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n{parts}--{boundary}--\r\n'
    ).encode()

    _assert_refused_within_memory(
        message, f"a message of 3001 MIME parts \\(at most {DEFAULT_LIMITS.max_mime_parts}\\)"
    )


def test_a_message_of_bare_delimiters_is_refused_before_it_is_parsed_whole() -> None:
    # Given one Content-Type line and 600,000 parts that have none (a delimiter line makes a part)
    message = b"From: r@reporter.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
    message += b"--x\n\n" * 600_000 + b"--x--\n"

    # Then the parser stops at the limit instead of building every part first
    _assert_refused_within_memory(message, "MIME parts")


def test_archives_nested_too_deep_are_refused() -> None:
    data = VEEAM
    for _ in range(DEFAULT_LIMITS.max_archive_depth + 1):
        data = gzip.compress(data)

    with pytest.raises(
        UnreadableReport, match=f"archives nested more than {DEFAULT_LIMITS.max_archive_depth} deep"
    ):
        read_reports(data)


def test_a_zip_of_many_files_is_refused() -> None:
    many = _zip({f"r{n}.xml": VEEAM for n in range(DEFAULT_LIMITS.max_zip_members + 1)})

    with pytest.raises(UnreadableReport, match="a zip of 21 files"):
        read_reports(many)
