"""`local up` on a port something already listens on (another `local up`, or macOS's AirPlay
Receiver on 5000): refused at once, naming the option, before anything starts; never a stack
bootstrapped into whatever server answers there."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest
from ses_feedback_cli.main import main
from ses_feedback_emulator.motoserver import free_port, start


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("option", ["--port", "--api-port"])
def test_local_up_on_a_port_in_use_is_refused_naming_the_option(
    taken_port: int, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    # Given: the other port free
    other = "--api-port" if option == "--port" else "--port"
    # When
    status = main(["local", "up", option, str(taken_port), other, str(free_port())])
    # Then
    out, err = capsys.readouterr()
    assert status == 1
    assert err == (
        f"error: {option} {taken_port}: 127.0.0.1:{taken_port} is already in use "
        f"(another `ses-feedback local up`?): stop it, or choose another {option}\n"
    )
    assert "Traceback" not in out + err


def test_a_moto_server_started_where_another_server_answers_is_not_taken_for_it() -> None:
    # Given: a server that answers every path with 200 on the port (another worker's, say,
    # which took the port between free_port() and the child's bind)
    class AnswersAnything(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"pid": 1}')

        def log_message(self, *_: object) -> None:
            pass

    other = http.server.HTTPServer(("127.0.0.1", 0), AnswersAnything)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        # When / Then: the child cannot bind, and start() says so instead of returning the other server
        with pytest.raises(RuntimeError, match=r"moto server exited .*in use"):
            start(port=other.server_address[1], timeout=30)
    finally:
        other.shutdown()
        other.server_close()


def test_a_replica_regions_rest_api_port_in_use_is_refused_naming_its_region(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given: the home region's REST API port free, the next one (eu-west-1's) taken
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        while True:
            api_port = free_port()
            try:
                holder.bind(("127.0.0.1", api_port + 1))
                break
            except OSError:
                continue
        holder.listen()
        # When
        status = main(
            [
                "local",
                "up",
                "--regions",
                "us-east-1,eu-west-1",
                "--port",
                str(free_port()),
                "--api-port",
                str(api_port),
            ]
        )
    # Then
    out, err = capsys.readouterr()
    assert status == 1
    assert err == (
        f"error: --api-port (+1, eu-west-1's REST API) {api_port + 1}: 127.0.0.1:{api_port + 1} is already "
        "in use (another `ses-feedback local up`?): stop it, or choose another --api-port\n"
    )
    assert "Traceback" not in out + err


def test_a_replication_lag_without_two_regions_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "up", "--replication-lag", "2"]) == 2
    assert capsys.readouterr().err == (
        "error: --replication-lag: only with --regions naming two regions or more\n"
    )
