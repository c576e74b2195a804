"""The one request reader (issue 23): what it refuses, in words, and that it reads every JSON object."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ses_feedback.errors import InvalidRequest
from ses_feedback.parsing.request_body import MAX_DEPTH, checked_object, read_form, read_json_object


def refused(raw: bytes | str | None) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        read_json_object(raw)
    assert caught.value.code == "invalid_request"
    return caught.value


def test_nesting_100000_deep_is_refused_without_recursion_error() -> None:
    # json.loads would raise RecursionError here: the reader measures the depth first.
    assert refused("[" * 100_000 + "]" * 100_000).message == (
        f"the body nests arrays and objects more than {MAX_DEPTH} deep"
    )


def test_nesting_at_the_limit_reads_and_one_more_is_refused() -> None:
    at_limit = '{"a": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"
    assert read_json_object(at_limit) == {"a": json.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))}
    refused('{"a": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}")


def test_brackets_inside_strings_are_not_nesting() -> None:
    text = json.dumps({"note": "[" * 1000 + '\\"{' * 1000})
    assert read_json_object(text)["note"].startswith("[[[")


def test_bytes_that_are_not_utf8_name_the_first_bad_byte() -> None:
    assert refused(b'{"a": "\xc3\x28"}').message.startswith(
        "the body is not UTF-8 text (byte 8 is not valid)"
    )


def test_a_repeated_key_is_named_with_its_path() -> None:
    error = refused('{"to": ["a@example.org"], "tags": {"x": "1", "x": "2"}}')
    assert (error.field, error.message) == ("tags.x", "tags.x: is given twice; give each key once")


def test_a_lone_surrogate_in_a_list_is_named_with_its_index() -> None:
    error = refused('{"to": ["a@example.org", "\\udc00@example.org"]}')
    assert error.field == "to[1]"


def test_a_surrogate_pair_is_a_character_and_reads() -> None:
    assert read_json_object('{"subject": "\\ud83d\\ude00"}') == {"subject": "\U0001f600"}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_numbers_json_does_not_have_are_refused(constant: str) -> None:
    assert refused(f'{{"a": {constant}}}').message == (
        f"the body is not valid JSON: {constant} is not a JSON number"
    )


def test_a_parsed_payload_is_held_to_the_same_rules() -> None:
    with pytest.raises(InvalidRequest, match="surrogate"):
        checked_object({"subject": "\ud800"})
    with pytest.raises(InvalidRequest, match="not an array"):
        checked_object([])
    nested: Any = "x"
    for _ in range(MAX_DEPTH + 1):
        nested = [nested]
    with pytest.raises(InvalidRequest, match="more than 32 deep"):
        checked_object({"a": nested})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_every_json_object_a_client_library_writes_reads_back_equal(value: dict[str, Any]) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, indent=2)):
        assert read_json_object(text.encode()) == value


def test_a_one_click_form_reads_urlencoded_multipart_and_untyped() -> None:
    multipart = (
        '--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n'
    )
    assert read_form(b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded") == [
        ("List-Unsubscribe", "One-Click")
    ]
    assert read_form(b"List-Unsubscribe=One-Click", None) == [("List-Unsubscribe", "One-Click")]
    assert read_form(multipart.encode(), "multipart/form-data; boundary=XyZ") == [
        ("List-Unsubscribe", "One-Click")
    ]


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"a=%FF", "the form's percent-encoded text is not UTF-8"),
        (b"a=\xff", "the body is not UTF-8 text"),
        (b"&".join(b"f%d=x" % i for i in range(21)), "the form has more than 20 fields"),
        (b"a=" + b"x" * 17_000, "the form is larger than 16384 bytes"),
    ],
)
def test_a_form_that_is_not_one_is_refused_in_words(raw: bytes, says: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        read_form(raw, "application/x-www-form-urlencoded")
    assert caught.value.message.startswith(says)
