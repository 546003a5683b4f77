"""Milvus Lite's engine on a TCP port: a stand-in Milvus server for the server code path.

newsqa reaches it through `http://127.0.0.1:PORT` exactly as it reaches a server (one shared
collection per index, rows inserted before a build publishes and deleted after). It is Lite's
engine, not a distributed Milvus. The test fixture `milvus_server` starts one; to run the whole
suite against it by hand:

    .venv/bin/python -m tests.milvus_engine 19530 &
    NEWSQA_STORE=milvus NEWSQA_MILVUS_URI=http://127.0.0.1:19530 .venv/bin/python -m pytest
"""

from __future__ import annotations

import signal
import socket
import sys
import tempfile
import time
from pathlib import Path


def start(folder: Path, port: int, wait: float = 30.0):
    """Start the engine on 127.0.0.1:port with its data in folder; return it once it listens."""
    from milvus_lite.server import Server

    server = Server(str(Path(folder) / "server.db"), f"127.0.0.1:{port}")
    if not (server.init() and server.start()):
        raise RuntimeError("could not start Milvus Lite's engine on a TCP port")
    deadline = time.monotonic() + wait
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"Milvus did not listen on port {port}") from None
            time.sleep(0.2)


def free_port() -> int:
    """Return a TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 19530
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the engine too, not only Ctrl-C
    with tempfile.TemporaryDirectory() as folder:
        server = start(Path(folder), port)
        print(f"Milvus (Lite engine) on http://127.0.0.1:{port}; Ctrl-C stops it", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
