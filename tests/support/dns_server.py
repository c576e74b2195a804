"""A small authoritative DNS server on loopback, for tests: dnspython zones over UDP and TCP.

It answers for the zones it is given (``set_zones``) and refuses everything else, the way
an authoritative server does: the answer for an existing record set; a CNAME (followed
inside the zones) when the name has one; NODATA or NXDOMAIN with the zone's SOA; TC over
UDP when the answer is too big, so the client retries over TCP.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone

LOOPBACK = "127.0.0.1"
UDP_PAYLOAD = 512  # without EDNS


def zone_from_records(origin: str, records: list[str]) -> dns.zone.Zone:
    """A zone from zone-file lines relative to ``origin`` (SOA and NS are added)."""
    text = "\n".join(
        [
            f"$ORIGIN {origin}.",
            "$TTL 300",
            f"@ SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 300",
            f"@ NS ns.{origin}.",
            *records,
        ]
    )
    return dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)


@dataclass
class Zones:
    """The zones served; tests swap them between cases."""

    zones: list[dns.zone.Zone] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    queries: int = 0
    tcp_queries: int = 0

    def set(self, zones: list[dns.zone.Zone]) -> None:
        with self.lock:
            self.zones = list(zones)

    def answer(self, query: dns.message.Message, tcp: bool = False) -> dns.message.Message:
        with self.lock:
            self.queries += 1
            self.tcp_queries += int(tcp)
            zones = list(self.zones)
        response = dns.message.make_response(query)
        response.flags &= ~dns.flags.RA
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        zone = _zone_for(zones, question.name)
        if zone is None or question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response
        response.flags |= dns.flags.AA
        name = question.name
        for _ in range(8):  # follow CNAMEs within our zones, as far as a resolver would want
            node = zone.get_node(name)
            if node is None:
                exists = any(other.is_subdomain(name) for other in zone.nodes)  # empty non-terminal
                if not exists:
                    response.set_rcode(dns.rcode.NXDOMAIN)
                response.authority.append(_soa(zone))
                return response
            rdataset = node.get_rdataset(dns.rdataclass.IN, question.rdtype)
            if rdataset is not None:
                response.answer.append(_rrset(name, rdataset))
                return response
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None:
                response.authority.append(_soa(zone))
                return response
            response.answer.append(_rrset(name, cname))
            name = cname[0].target
            next_zone = _zone_for(zones, name)
            if next_zone is None:
                return response
            zone = next_zone
        return response


def _zone_for(zones: list[dns.zone.Zone], name: dns.name.Name) -> dns.zone.Zone | None:
    matching = [z for z in zones if name.is_subdomain(z.origin)]
    return max(matching, key=lambda z: len(z.origin), default=None)


def _rrset(name: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(name, rdataset.rdclass, rdataset.rdtype)
    rrset.update(rdataset)
    return rrset


def _soa(zone: dns.zone.Zone) -> dns.rrset.RRset:
    return _rrset(zone.origin, zone.find_rdataset(zone.origin, dns.rdatatype.SOA))


class _UdpHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        server: DnsServer = self.server.dns  # type: ignore[attr-defined]
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return
        response = server.zones.answer(query)
        try:
            wire = response.to_wire(
                max_size=UDP_PAYLOAD if query.edns < 0 else max(query.payload, UDP_PAYLOAD)
            )
        except dns.exception.TooBig:
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.TC
            wire = truncated.to_wire()
        sock.sendto(wire, self.client_address)


class _TcpHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: DnsServer = self.server.dns  # type: ignore[attr-defined]
        connection: socket.socket = self.request
        connection.settimeout(5)
        while True:
            header = _read_exactly(connection, 2)
            if header is None:
                return
            data = _read_exactly(connection, struct.unpack("!H", header)[0])
            if data is None:
                return
            try:
                query = dns.message.from_wire(data)
            except dns.exception.DNSException:
                return
            wire = server.zones.answer(query, tcp=True).to_wire()
            connection.sendall(struct.pack("!H", len(wire)) + wire)


def _read_exactly(connection: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        try:
            chunk = connection.recv(size - len(data))
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


class _ThreadingUdp(socketserver.ThreadingMixIn, socketserver.UDPServer):
    daemon_threads = True


class _ThreadingTcp(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


@dataclass
class DnsServer:
    """UDP and TCP on one loopback port; ``address`` is what ``--nameserver`` takes."""

    zones: Zones = field(default_factory=Zones)
    port: int = 0
    _servers: list[socketserver.BaseServer] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def start(self) -> DnsServer:
        for _ in range(20):  # the UDP port picked by the OS may be taken for TCP: try another
            udp = _ThreadingUdp((LOOPBACK, 0), _UdpHandler)
            port = udp.server_address[1]
            try:
                tcp = _ThreadingTcp((LOOPBACK, port), _TcpHandler)
            except OSError:
                udp.server_close()
                continue
            self.port = port
            self._servers = [udp, tcp]
            for server in self._servers:
                server.dns = self  # type: ignore[attr-defined]
                threading.Thread(target=server.serve_forever, daemon=True).start()
            return self
        raise RuntimeError("no free port for UDP and TCP on loopback")

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
