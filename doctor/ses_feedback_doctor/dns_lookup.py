"""The DNS edge: dnspython queries against the system resolver or one given server.

Every query becomes a ``Lookup`` (records, or the error that stopped it); the checks never
see dnspython.
"""

from __future__ import annotations

import ipaddress
import socket

import dns.exception
import dns.name
import dns.rdata
import dns.resolver
from dns.rdtypes.ANY.CNAME import CNAME
from dns.rdtypes.ANY.MX import MX
from dns.rdtypes.ANY.TXT import TXT

from ses_feedback_doctor import dmarc, spf
from ses_feedback_doctor.model import DnsFacts, Lookup

DEFAULT_TIMEOUT = 5.0
MAX_SPF_DOMAINS = 40  # enough for any record within the look-up limit, and a bound on loops


class BadNameserver(ValueError):
    """--nameserver is not HOST[:PORT]."""


def parse_nameserver(text: str) -> tuple[str, int]:
    """``HOST``, ``HOST:PORT``, ``[IPv6]:PORT`` or a bare IPv6 address → (IP address, port)."""
    host, port = text.strip(), 53
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        if rest:
            port = _port(rest.removeprefix(":"), text)
    elif host.count(":") == 1:
        host, _, port_text = host.partition(":")
        port = _port(port_text, text)
    if not host:
        raise BadNameserver(f"--nameserver {text!r}: no host")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            host = socket.gethostbyname(host)
        except OSError as exc:
            raise BadNameserver(f"--nameserver {text!r}: cannot resolve {host}") from exc
    return host, port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise BadNameserver(f"--nameserver {whole!r}: port must be 1-65535")
    return int(text)


class DnsLookup:
    """Queries one resolver; ``nameserver`` sends every query to that server instead."""

    def __init__(self, nameserver: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        if nameserver:
            host, port = parse_nameserver(nameserver)
            self._resolver = dns.resolver.Resolver(configure=False)
            self._resolver.nameservers = [host]
            self._resolver.port = port
        else:
            self._resolver = dns.resolver.Resolver()
        self._resolver.lifetime = timeout
        self._resolver.timeout = timeout

    def query(self, name: str, rdtype: str) -> Lookup:
        try:
            answer = self._resolver.resolve(
                dns.name.from_text(name), rdtype, raise_on_no_answer=False, search=False
            )
        except dns.resolver.NXDOMAIN:
            return Lookup()
        except (dns.exception.DNSException, OSError) as exc:
            return Lookup(error=f"{type(exc).__name__}: {exc}")
        if answer.rrset is None:
            return Lookup()
        return Lookup(records=tuple(_text(rdata) for rdata in answer.rrset))

    def facts(self, domain: str, mail_from_domain: str, dkim_tokens: tuple[str, ...]) -> DnsFacts:
        mail_from_txt = self.query(mail_from_domain, "TXT")
        dmarc_txt = self.query(f"_dmarc.{domain}", "TXT")
        return DnsFacts(
            dkim={token: self.query(f"{token}._domainkey.{domain}", "CNAME") for token in dkim_tokens},
            mail_from_mx=self.query(mail_from_domain, "MX"),
            mail_from_txt=mail_from_txt,
            spf_targets=self.spf_targets(mail_from_txt),
            dmarc_txt=dmarc_txt,
            dmarc_parents={} if dmarc_txt.error or _has_dmarc(dmarc_txt) else self.dmarc_parents(domain),
        )

    def dmarc_parents(self, domain: str) -> dict[str, Lookup]:
        """_dmarc.<parent> from the nearest parent up (the TLD excluded), until one has a record."""
        found: dict[str, Lookup] = {}
        labels = domain.split(".")
        for start in range(1, len(labels) - 1):
            parent = ".".join(labels[start:])
            found[parent] = self.query(f"_dmarc.{parent}", "TXT")
            if _has_dmarc(found[parent]):
                break
        return found

    def spf_targets(self, start: Lookup) -> dict[str, Lookup]:
        """TXT answers for every domain the SPF record reaches through include/redirect."""
        fetched: dict[str, Lookup] = {}
        pending = _targets_of(start)
        while pending and len(fetched) < MAX_SPF_DOMAINS:
            domain = pending.pop(0)
            if domain in fetched or spf.has_macro(domain):
                continue
            fetched[domain] = self.query(domain, "TXT")
            pending.extend(_targets_of(fetched[domain]))
        return fetched


def _has_dmarc(lookup: Lookup) -> bool:
    return any(dmarc.is_dmarc(text) for text in lookup.records)


def _targets_of(lookup: Lookup) -> list[str]:
    domains = []
    for text in spf.spf_records(lookup):
        try:
            domains += [domain for _, domain in spf.parse(text).targets()]
        except spf.SpfSyntaxError:
            continue  # the check reports it
    return domains


def _text(rdata: dns.rdata.Rdata) -> str:
    if isinstance(rdata, TXT):
        return b"".join(rdata.strings).decode("utf-8", "replace")
    if isinstance(rdata, MX):
        return f"{rdata.preference} {rdata.exchange.to_text(omit_final_dot=True).lower()}"
    if isinstance(rdata, CNAME):
        return rdata.target.to_text(omit_final_dot=True).lower()
    return rdata.to_text()
