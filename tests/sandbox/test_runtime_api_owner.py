"""The Runtime API accepts a connection only from the environment's own uid."""

from __future__ import annotations

import os
import socket

import pytest

from lamina.sandbox.runtime_api import _peer_owned_by, _proc_net_tcp_owner, _socket_owner

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="switching uid needs root")

UID = 200_777


def test_owner_of_a_loopback_client_socket() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # a client created by another uid, as a function's runtime would be
            try:
                os.setresuid(UID, UID, UID)
                client = socket.socket()
                client.connect(server.getsockname())
                os.read(ready_r, 1)
            finally:
                os._exit(0)
        try:
            conn, peer = server.accept()
            with conn:
                local = conn.getsockname()
                assert _socket_owner(peer, local) == UID
                assert _proc_net_tcp_owner(peer) == UID  # the fallback agrees
                assert _peer_owned_by(peer, local, UID)
                assert not _peer_owned_by(peer, local, UID + 1)
                # Our own end of the connection, and a socket that does not exist.
                assert _socket_owner(local, peer) == os.geteuid()
                assert _socket_owner(("127.0.0.1", 1), local) is None
        finally:
            os.write(ready_w, b"x")
            os.waitpid(pid, 0)
            os.close(ready_r)
            os.close(ready_w)
