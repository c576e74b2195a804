"""The recipient's pages: the preference page, the one-click answer and the refusals, in their language.

Every sentence comes from one catalogue per language (``en.json``, ``ja.json`` beside this
module, the same keys in each; a test holds them together), so a refusal is said in the
page's words, never a validator's. ``Accept-Language`` picks the language among those shipped.

The pages need no JavaScript: each change is a ``<form method="post">`` to the link's own URL
with a real button, so they work by keyboard and with a screen reader (one ``h1``, a heading
per stream, buttons named with the stream's name, the result in a status region). The style
is one inline ``<style>`` allowed by its hash in the CSP; nothing is loaded from anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from html import escape
from importlib import resources

from ses_feedback.model.preferences import (
    DEFAULT_LANGUAGE,
    Catalogue,
    PreferenceView,
    StreamChoice,
)
from ses_feedback.model.reasons import Reason
from ses_feedback.parsing.languages import negotiate

LANGUAGES = ("en", "ja")

_STYLE = (
    "body{font:1rem/1.5 system-ui,sans-serif;max-width:36rem;margin:0 auto;padding:1.5rem 1rem;"
    "color:#1f1f1f;background:#fff;overflow-wrap:anywhere}"
    "h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:2rem 0 .5rem}"
    "h3{font-size:1.05rem;margin:0}ul{list-style:none;padding:0;margin:0}"
    "li{border:1px solid #767676;border-radius:.5rem;padding:1rem;margin:.75rem 0}p{margin:.4rem 0}"
    ".status{font-weight:600}"
    ".notice{border-left:.3rem solid #8a5a00;background:#fff8e6;padding:.75rem 1rem}"
    "#result{border-left:.3rem solid #1b6b35;background:#eef7f0;padding:.75rem 1rem}"
    "#result[role=alert]{border-color:#a8231a;background:#fdeeee}"
    "button{font:inherit;min-height:2.75rem;padding:.5rem 1rem;border:2px solid #1f1f1f;border-radius:.4rem;"
    "background:#fff;color:#1f1f1f;cursor:pointer;max-width:100%}"
    "button.leave{background:#a8231a;border-color:#a8231a;color:#fff}"
    ":focus-visible{outline:3px solid #0b57d0;outline-offset:2px}a{color:#0b57d0}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

# The token is in the URL: no referrer leaves the page, nothing caches or indexes it; nothing
# but the one inline style (by its hash) runs or loads, and forms post only to this origin.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def page_headers(language: str) -> dict[str, str]:
    return {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Content-Language": language,
        "Vary": "Accept-Language",
    }


def page_language(accept_language: str | None) -> str:
    return negotiate(accept_language, LANGUAGES, DEFAULT_LANGUAGE)


@cache
def words(language: str) -> dict[str, str]:
    """The language's sentences (read once per container)."""
    text = resources.files(__package__).joinpath(f"{language}.json").read_text(encoding="utf-8")
    loaded: dict[str, str] = json.loads(text)
    return loaded


def say(language: str, key: str, **values: str) -> str:
    """One sentence, HTML-escaped, with ``values`` (escaped too) in its ``{placeholders}``."""
    return escape(words(language)[key]).format(**{name: escape(value) for name, value in values.items()})


@dataclass(frozen=True)
class Notice:
    """The answer to what was just asked, shown above everything else; ``alert``: it was refused."""

    html: str
    alert: bool = False


def stream_title(catalogue: Catalogue, stream: str, language: str) -> str:
    entry = catalogue.entry(stream)
    return entry.title_in(language) if entry is not None else stream


def change_notice(action: str, stream: str | None, catalogue: Catalogue, language: str) -> Notice:
    """What a form did: ``action`` is the form's, ``stream`` its stream (None: every list)."""
    title = stream_title(catalogue, stream, language) if stream else ""
    return Notice(say(language, f"done_{action}", title=title))


def refused_rejoin_notice(stream: str | None, reason: str, catalogue: Catalogue, language: str) -> Notice:
    """Why a rejoin was refused, in the reader's words: what holds the mail back, not its details."""
    title = stream_title(catalogue, stream, language) if stream else say(language, "all_heading")
    held = _held_words(language, reason)
    return Notice(f"{say(language, 'refused_rejoin', title=title)} {held}", alert=True)


def preference_page(
    view: PreferenceView, catalogue: Catalogue, language: str, notice: Notice | None = None
) -> str:
    erased = view.held_by is Reason.ERASED
    parts = [f'<h1 id="title">{say(language, "page_title")}</h1>']
    if notice is not None:
        role = "alert" if notice.alert else "status"
        parts.append(f'<p id="result" role="{role}">{notice.html}</p>')
    parts.append(f"<p>{say(language, 'intro', address=view.masked_address)}</p>")
    if view.held_by is not None:
        parts.append(f'<p class="notice" id="held">{_held_words(language, view.held_by.value)}</p>')
    parts.append(f'<h2 id="lists">{say(language, "lists_heading")}</h2><ul aria-labelledby="lists">')
    parts.extend(_stream_row(choice, view, catalogue, language, erased) for choice in view.choices)
    parts.append("</ul>")
    if not erased:
        parts.append(f'<h2 id="every">{say(language, "all_heading")}</h2>')
        if view.left_all:
            parts.append(f"<p>{say(language, 'left_all_text')}</p>")
            parts.append(_form("resubscribe_all", None, "rejoin-all", say(language, "rejoin_all_button")))
        else:
            parts.append(f"<p>{say(language, 'leave_all_text')}</p>")
            parts.append(
                _form("unsubscribe_all", None, "leave-all", say(language, "leave_all_button"), leave=True)
            )
    # The answer leads the title too: it is what a screen reader says first on the new page.
    title = say(language, "page_title")
    if notice is not None:
        title = escape(words(language)["result_title"]).format(result=notice.html, title=title)
    return _document(language, title, "".join(parts))


def one_click_page(stream: str, catalogue: Catalogue, language: str) -> str:
    """The answer to RFC 8058's one-click POST (also a person's press of a mail client's button)."""
    title = stream_title(catalogue, stream, language)
    body = (
        f'<h1 id="result">{say(language, "one_click_heading")}</h1>'
        f"<p>{say(language, 'one_click_text', title=title)}</p>"
        # The link's own URL: its GET is the preference page, the way back for a mistaken click.
        f'<p><a href="" id="preferences">{say(language, "one_click_more")}</a></p>'
    )
    return _document(language, say(language, "one_click_title"), body)


def refusal_page(code: str, language: str) -> str:
    """A refusal in the page's words: its code picks the sentence, never the error's own text."""
    key = f"refused_{code}" if f"refused_{code}" in words(language) else "refused_invalid_request"
    heading_key = (
        f"refused_heading_{code}" if f"refused_heading_{code}" in words(language) else "refused_heading"
    )
    heading = say(language, heading_key)
    return _document(language, heading, f'<h1 id="result">{heading}</h1><p>{say(language, key)}</p>')


# ---- the pieces -------------------------------------------------------------------------------


def _held_words(language: str, reason: str) -> str:
    return say(language, f"held_{reason}")


def _stream_row(
    choice: StreamChoice, view: PreferenceView, catalogue: Catalogue, language: str, erased: bool
) -> str:
    entry = catalogue.entry(choice.stream)
    title = stream_title(catalogue, choice.stream, language)
    description = (
        escape(entry.description_in(language))
        if entry is not None
        else say(language, "no_description", stream=choice.stream)
    )
    if choice.held_by is not None:
        held_here = view.held_by is None
        status = (
            _held_words(language, choice.held_by.value) if held_here else say(language, "status_held_above")
        )
    else:
        status = say(language, f"status_{choice.standing.value}")
    status_id = f"status-{choice.stream}"
    row = [
        f'<li><h3 id="name-{choice.stream}">{escape(title)}</h3><p>{description}</p>',
        f'<p class="status" id="{status_id}">{status}</p>',
    ]
    if not erased and not choice.left_all:
        if choice.left:
            label = say(language, "rejoin_button", title=title)
            row.append(_form("resubscribe", choice.stream, f"rejoin-{choice.stream}", label, status_id))
        else:
            label = say(language, "leave_button", title=title)
            row.append(
                _form("unsubscribe", choice.stream, f"leave-{choice.stream}", label, status_id, leave=True)
            )
    row.append("</li>")
    return "".join(row)


def _form(
    action: str,
    stream: str | None,
    button_id: str,
    label: str,
    described_by: str = "",
    *,
    leave: bool = False,
) -> str:
    # No action attribute: the form posts to this same URL, the link's own.
    fields = f'<input type="hidden" name="action" value="{action}">'
    if stream is not None:
        fields += f'<input type="hidden" name="stream" value="{escape(stream)}">'
    extra = f' aria-describedby="{described_by}"' if described_by else ""
    css = ' class="leave"' if leave else ""
    button = f'<button type="submit" id="{button_id}"{css}{extra}>{label}</button>'
    return f'<form method="post">{fields}{button}</form>'


def _document(language: str, title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title><style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )
