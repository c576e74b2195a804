"""The local SES's templates, pure: what CreateEmailTemplate refuses, how data renders."""

from __future__ import annotations

import re

import pytest
from ses_feedback_emulator.templates import RenderingFailure, Template, TemplateError

CARD = Template.of(
    "card", {"Subject": "Hi {{ name }}", "Text": "{{name}} {{n}} {{ok}}", "Html": "<i>{{name}}</i>"}
)


def test_data_fills_every_part_escaped_only_in_html() -> None:
    assert CARD.render('{"name": "A&B", "n": 3, "ok": true}') == ("Hi A&B", "A&B 3 true", "<i>A&amp;B</i>")


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ('{"name": "A"}', "Attribute 'n' is not present in the rendering data."),
        ('{"name": {"x": 1}, "n": 1, "ok": 1}', "Attribute 'name' is not a text, number or boolean value."),
        ("[1]", "TemplateData must be a JSON object"),
        ("{not json", "TemplateData is not JSON"),
    ],
)
def test_data_that_does_not_fill_the_template_is_a_rendering_failure(data: str, said: str) -> None:
    with pytest.raises(RenderingFailure, match=f"^{re.escape(said)}$"):
        CARD.render(data)


def test_a_helper_is_said_to_be_beyond_the_local_renderer() -> None:
    with pytest.raises(RenderingFailure, match=re.escape("renders {{field}} only")):
        Template.of("t", {"Text": "{{#if x}}y{{/if}}"}).render('{"x": 1}')


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("bad name", {"Text": "x"}, "TemplateName must be"),
        ("t", {"Subject": "only a subject"}, "needs a Text or an Html part"),
        ("t", {"Text": 3}, "must be strings"),
        ("t", {"Text": "x" * (500 * 1024 + 1)}, "at most 500 KB"),
    ],
)
def test_create_refuses_what_ses_refuses(name: str, content: dict[str, object], said: str) -> None:
    with pytest.raises(TemplateError, match=said):
        Template.of(name, content)
