"""The supervisord client speaks XML-RPC over a unix socket and hangs up after each call."""
from __future__ import annotations

import gc
import socketserver
import threading
import warnings
from xmlrpc.server import SimpleXMLRPCDispatcher, SimpleXMLRPCRequestHandler

import pytest

from chaoslib.native.supervisor import Supervisor


class _UnixXMLRPCServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer, SimpleXMLRPCDispatcher):
    """A stand-in for supervisord's XML-RPC interface (only what these tests call)."""

    daemon_threads = True
    logRequests = False

    def __init__(self, path: str) -> None:
        class Handler(SimpleXMLRPCRequestHandler):
            disable_nagle_algorithm = False  # TCP_NODELAY does not apply to a unix socket
            protocol_version = "HTTP/1.1"  # keeps the connection open after answering, as supervisord does

            def address_string(self) -> str:  # a unix peer has no (host, port)
                return "unix"

            def log_message(self, *args) -> None:
                pass

        socketserver.UnixStreamServer.__init__(self, path, Handler)
        SimpleXMLRPCDispatcher.__init__(self, allow_none=True)


@pytest.fixture
def fake_supervisord(tmp_path):
    path = tmp_path / "supervisor.sock"
    server = _UnixXMLRPCServer(str(path))
    server.register_function(lambda: {"statename": "RUNNING"}, "supervisor.getState")
    server.register_function(lambda name: {"name": name, "statename": "RUNNING", "pid": 42},
                             "supervisor.getProcessInfo")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield path
    server.shutdown()
    server.server_close()


def test_calls_go_over_the_socket_and_leave_no_socket_open(fake_supervisord, tmp_path):
    """Repeated calls answer, and not one socket is left for the garbage collector to close."""
    sup = Supervisor(fake_supervisord, tmp_path / "supervisord.conf")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(5):
            assert sup.running()
            assert sup._proxy().supervisor.getProcessInfo("pager")["pid"] == 42
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_no_socket_means_not_running(tmp_path):
    """Without supervisord's socket the client says it is not running (no exception)."""
    assert not Supervisor(tmp_path / "absent.sock", tmp_path / "supervisord.conf").running()


def test_a_closed_socket_file_reads_as_not_running(tmp_path):
    """A socket file nobody listens on (supervisord killed) is not running either."""
    import socket

    path = tmp_path / "stale.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    assert not Supervisor(path, tmp_path / "supervisord.conf").running()
