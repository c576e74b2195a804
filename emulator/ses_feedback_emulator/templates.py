"""SES v2 email templates for the local SES (moto has none): kept by name, rendered on send. Pure.

SES renders templates with Handlebars. The local SES renders what the sender's templates use:
``{{field}}`` and ``{{a.b}}`` from the send's ``TemplateData`` (HTML-escaped in the HTML part,
as Handlebars does), and ``{{{field}}}`` unescaped. A field the data does not hold is what SES
calls a rendering failure: the message is not delivered and a ``Rendering Failure`` event is
published. Block helpers (``{{#if}}``, ``{{#each}}``) are not rendered here: a template that
uses them fails to render locally, saying so, rather than reaching the mailbox wrong.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any

# {{{ raw }}} first, then {{ escaped }}; a path is names joined by dots.
_PLACEHOLDER = re.compile(r"\{\{\{\s*(?P<raw>[^{}]*?)\s*\}\}\}|\{\{\s*(?P<escaped>[^{}]*?)\s*\}\}")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*")
# SES's own limits: a template name; a template's parts together at most 500 KB.
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_TEMPLATE_BYTES = 500 * 1024


class TemplateError(ValueError):
    """A template SES would refuse at CreateEmailTemplate (a BadRequestException)."""


class RenderingFailure(ValueError):
    """What SES's Rendering Failure event says (``failure.errorMessage``)."""


@dataclass(frozen=True)
class Template:
    name: str
    subject: str | None
    text: str | None
    html: str | None

    @classmethod
    def of(cls, name: str, content: Any) -> Template:
        """A template from a CreateEmailTemplate / UpdateEmailTemplate request's parts."""
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise TemplateError("TemplateName must be 1 to 64 letters, digits, '_' or '-'")
        if not isinstance(content, dict):
            raise TemplateError("TemplateContent must be an object of Subject, Text and Html")
        parts = {key: content.get(key) for key in ("Subject", "Text", "Html")}
        if any(value is not None and not isinstance(value, str) for value in parts.values()):
            raise TemplateError("TemplateContent's Subject, Text and Html must be strings")
        if not parts["Text"] and not parts["Html"]:
            raise TemplateError("TemplateContent needs a Text or an Html part")
        if sum(len(value.encode()) for value in parts.values() if value) > MAX_TEMPLATE_BYTES:
            raise TemplateError(f"a template may be at most {MAX_TEMPLATE_BYTES // 1024} KB")
        return cls(name=name, subject=parts["Subject"], text=parts["Text"], html=parts["Html"])

    def as_content(self) -> dict[str, str]:
        parts = (("Subject", self.subject), ("Text", self.text), ("Html", self.html))
        return {key: value for key, value in parts if value is not None}

    def render(self, template_data: str | None) -> tuple[str, str | None, str | None]:
        """(subject, text, html) with the send's data in; ``RenderingFailure`` when it cannot be."""
        try:
            data = json.loads(template_data or "{}")
        except json.JSONDecodeError:
            raise RenderingFailure("TemplateData is not JSON") from None
        if not isinstance(data, dict):
            raise RenderingFailure("TemplateData must be a JSON object")
        subject = _fill(self.subject or "", data, escape=False)
        text = _fill(self.text, data, escape=False) if self.text is not None else None
        body = _fill(self.html, data, escape=True) if self.html is not None else None
        return subject, text, body


def _fill(part: str, data: dict[str, Any], *, escape: bool) -> str:
    def value(match: re.Match[str]) -> str:
        raw = match["raw"] is not None
        path = match["raw"] if raw else match["escaped"]
        if not _PATH.fullmatch(path):
            raise RenderingFailure(f"{{{{{path}}}}}: the local SES renders {{{{field}}}} only, not helpers")
        found: Any = data
        for name in path.split("."):
            if not isinstance(found, dict) or name not in found:
                raise RenderingFailure(f"Attribute '{path}' is not present in the rendering data.")
            found = found[name]
        if isinstance(found, (dict, list)) or found is None:
            raise RenderingFailure(f"Attribute '{path}' is not a text, number or boolean value.")
        shown = json.dumps(found) if isinstance(found, bool) else str(found)
        return html.escape(shown) if escape and not raw else shown

    return _PLACEHOLDER.sub(value, part)
