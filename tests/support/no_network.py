"""Code that a fresh interpreter runs first so that any network use fails at once.

Sockets refuse to connect or resolve: an import (or a request) that reached for the
network, or for credentials on the instance metadata endpoint, raises instead of waiting.
The cold-start test and benchmark prefix it to what their child interpreters run.
"""

PRELUDE = """
import socket
def _refuse(*args, **kwargs):
    raise OSError("no network in this interpreter")
socket.socket.connect = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""
