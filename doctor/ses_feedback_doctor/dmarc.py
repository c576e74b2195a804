"""DMARC (RFC 7489) records and identifier alignment, as far as the doctor needs them."""

from __future__ import annotations

from dataclasses import dataclass

POLICIES = ("none", "quarantine", "reject")


class DmarcSyntaxError(ValueError):
    """A record receivers ignore, which leaves the domain without a DMARC policy."""


@dataclass(frozen=True)
class DmarcRecord:
    text: str
    policy: str
    subdomain_policy: str | None
    spf_alignment: str  # "r" relaxed (default) or "s" strict
    dkim_alignment: str
    report_addresses: tuple[str, ...]
    percent: int


def is_dmarc(text: str) -> bool:
    return text.strip().replace(" ", "").upper().startswith("V=DMARC1")


def parse(text: str) -> DmarcRecord:
    tags: dict[str, str] = {}
    for index, part in enumerate(p.strip() for p in text.split(";")):
        if not part:
            continue
        name, equals, value = part.partition("=")
        if not equals:
            raise DmarcSyntaxError(f"{part!r} is not a tag=value pair")
        name, value = name.strip().lower(), value.strip()
        if index == 0 and (name != "v" or value != "DMARC1"):
            raise DmarcSyntaxError("the record must start with v=DMARC1")
        tags[name] = value
    policy = tags.get("p", "").lower()
    if policy not in POLICIES:
        raise DmarcSyntaxError(f"p= must be one of {', '.join(POLICIES)}, not {tags.get('p')!r}")
    for tag in ("aspf", "adkim"):
        if tags.get(tag, "r").lower() not in ("r", "s"):
            raise DmarcSyntaxError(f"{tag}= must be r or s, not {tags[tag]!r}")
    subdomain_policy = tags.get("sp", "").lower() or None
    if subdomain_policy is not None and subdomain_policy not in POLICIES:
        raise DmarcSyntaxError(f"sp= must be one of {', '.join(POLICIES)}, not {tags['sp']!r}")
    try:
        percent = int(tags.get("pct", "100"))
    except ValueError as exc:
        raise DmarcSyntaxError(f"pct= must be a number, not {tags['pct']!r}") from exc
    reports = tuple(uri.strip() for uri in tags.get("rua", "").split(",") if uri.strip())
    return DmarcRecord(
        text=text,
        policy=policy,
        subdomain_policy=subdomain_policy,
        spf_alignment=tags.get("aspf", "r").lower(),
        dkim_alignment=tags.get("adkim", "r").lower(),
        report_addresses=reports,
        percent=percent,
    )


def aligned(identifier: str, from_domain: str, mode: str) -> bool:
    """Does a domain SPF or DKIM authenticated align with the From domain?

    Strict: the same domain. Relaxed: the same organisational domain. Without the Public
    Suffix List the doctor judges relaxed alignment by ancestry (one is the other or a
    subdomain of it), which covers what SES creates: the MAIL FROM is a subdomain of the
    identity and Easy DKIM signs with d= the identity itself. Siblings (news.example.com
    From, mail.example.com MAIL FROM) are reported as not aligned.
    """
    identifier, from_domain = identifier.lower().rstrip("."), from_domain.lower().rstrip(".")
    if mode == "s":
        return identifier == from_domain
    return (
        identifier == from_domain
        or identifier.endswith("." + from_domain)
        or (from_domain.endswith("." + identifier) and "." in identifier)
    )
