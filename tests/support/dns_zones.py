"""DNS zones for doctor tests: a domain set up the way SES wants it, and ways to break it.

Records are zone-file lines relative to the domain, keyed by their role so that a test can
drop or replace exactly one of them.
"""

from __future__ import annotations

import dns.zone

from tests.support.dns_server import zone_from_records

DOMAIN = "example.com"
REGION = "us-east-1"
TOKENS = (
    "4jdq7gbyxfybzfk6kdqzrpudlmlqa2bb",
    "ch2q3ns3xalfcmzlyt6m6w5ldllpv7g5",
    "t5dbsbyvw6ojq52m6kfafpfhfszbi4s3",
)
# What amazonses.com publishes: addresses only, so it costs no further look-ups.
AMAZONSES_SPF = (
    '"v=spf1 ip4:199.255.192.0/22 ip4:199.127.232.0/22 ip4:54.240.0.0/18 ip4:69.169.224.0/20 '
    'ip4:23.249.208.0/20 ip4:23.251.224.0/19 ip4:76.223.176.0/20 ip4:54.240.64.0/19 -all"'
)


def correct_records(region: str = REGION, tokens: tuple[str, ...] = TOKENS) -> dict[str, str]:
    return {
        **{
            f"dkim{i}": f"{token}._domainkey CNAME {token}.dkim.amazonses.com."
            for i, token in enumerate(tokens, start=1)
        },
        "mx": f"mail MX 10 feedback-smtp.{region}.amazonses.com.",
        "spf": 'mail TXT "v=spf1 include:amazonses.com ~all"',
        "dmarc": f'_dmarc TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@{DOMAIN}"',
        "web": "www A 192.0.2.10",
    }


def zones(records: dict[str, str], domain: str = DOMAIN) -> list[dns.zone.Zone]:
    """The domain's zone with these records, and amazonses.com's SPF (includes reach it)."""
    return [
        zone_from_records(domain, list(records.values())),
        zone_from_records("amazonses.com", [f"@ TXT {AMAZONSES_SPF}"]),
    ]


def without(role: str) -> dict[str, str]:
    records = correct_records()
    del records[role]
    return records


def replacing(**changes: str) -> dict[str, str]:
    return {**correct_records(), **changes}
