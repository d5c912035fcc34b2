"""Run ``moto_server`` (a local AWS emulator) on 127.0.0.1 for tests, and stop it afterwards.

Usage as a context manager::

    with running_moto_server() as server:
        env = server.client_env()        # AWS_ENDPOINT_URL + dummy credentials + region
        ...
        server.reset()                   # forget every resource between tests

or as a pytest fixture, in a conftest.py::

    moto_server = moto_server_fixture()                  # session-scoped by default
    moto_server_module = moto_server_fixture(scope="module")

The server listens only on 127.0.0.1, on a free port picked at start; its output goes to a log
file whose tail is shown if it fails to start. With ``MLOPS_TEST_MOTO_PORT`` set, the fixtures
use the moto_server already listening on that port of 127.0.0.1 instead of starting one (`make
mutation` starts one for its thousands of short pytest sessions, which run one at a time).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

LOOPBACK = "127.0.0.1"
#: A moto_server already running on this port of 127.0.0.1 serves every fixture (see above).
SHARED_PORT_VARIABLE = "MLOPS_TEST_MOTO_PORT"
DEFAULT_REGION = "us-east-1"


class MotoServerError(RuntimeError):
    """moto_server could not be started or stopped."""


@dataclass(frozen=True, kw_only=True)
class MotoServer:
    """A running moto_server."""

    port: int
    region: str
    log_path: Path
    #: where moto's recorder appends every request (None: not recording)
    recording_path: Path | None = None

    def recorded(self) -> list[dict[str, Any]]:
        """Every request moto's recorder has written so far (method, url, headers, body)."""
        if self.recording_path is None:
            raise MotoServerError("moto_server was started without record=True")
        return read_recording(self.recording_path)

    @property
    def endpoint_url(self) -> str:
        """Base URL to pass as ``endpoint_url`` / ``AWS_ENDPOINT_URL``."""
        return f"http://{LOOPBACK}:{self.port}"

    def client_env(self) -> dict[str, str]:
        """Environment that points boto3 and the AWS CLI/Terraform provider at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def reset(self) -> None:
        """Delete every resource held by the server (POST /moto-api/reset)."""
        request = urllib.request.Request(
            f"{self.endpoint_url}/moto-api/reset", method="POST", data=b""
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 200:
                raise MotoServerError(f"moto reset answered {response.status}")


_RECORDINGS: dict[Path, tuple[int, list[dict[str, Any]]]] = {}


def read_recording(path: Path) -> list[dict[str, Any]]:
    """The recorder's entries, read incrementally. moto's threads append an entry and its
    newline in two writes, so entries may share a line: decode object after object."""
    if not path.exists():
        return []
    offset, entries = _RECORDINGS.get(path, (0, []))
    with path.open("rb") as f:
        f.seek(offset)
        new = f.read()
    text = new.decode("utf-8")
    decoder = json.JSONDecoder()
    position = 0
    consumed = 0
    while True:
        while position < len(text) and text[position] in " \r\n\t":
            position += 1
        if position >= len(text):
            consumed = len(text)
            break
        try:
            entry, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            break  # a write still in progress: read the rest next time
        entries.append(entry)
        position = end
        consumed = end
    _RECORDINGS[path] = (offset + len(text[:consumed].encode("utf-8")), entries)
    return list(entries)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


#: moto_server's own entry point (moto/server.py ``main``) with TCP_NODELAY on its request
#: handler: werkzeug writes the status line and headers, then the body, as two writes, and with
#: Nagle's algorithm the body waits for the client's delayed ACK of the first (up to 40 ms on
#: Linux); the preflight tests measured ~17 ms per request before, under 2 ms after.
_LAUNCHER = (
    "import sys; import moto.server as server; "
    "server.MotoRequestHandler.disable_nagle_algorithm = True; "
    "server.main(sys.argv[1:])"
)


def _server_command(port: int) -> list[str]:
    return [sys.executable, "-c", _LAUNCHER, "--host", LOOPBACK, "--port", str(port)]


def _is_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextmanager
def running_moto_server(
    *, region: str = DEFAULT_REGION, startup_timeout_seconds: float = 30.0, record: bool = False
) -> Iterator[MotoServer]:
    """Start moto_server on 127.0.0.1 and a free port; stop it when the block exits.

    ``record``: moto's recorder (MOTO_ENABLE_RECORDING) appends every request it serves to
    a file, read back with :meth:`MotoServer.recorded`."""
    with tempfile.TemporaryDirectory(prefix="moto-server-") as tmp:
        log_path = Path(tmp) / "moto_server.log"
        port = free_port()
        env = {**os.environ, "AWS_DEFAULT_REGION": region}
        env.pop("AWS_ENDPOINT_URL", None)
        recording = Path(tmp) / "recording.jsonl" if record else None
        for name in ("MOTO_ENABLE_RECORDING", "MOTO_RECORDER_FILEPATH"):
            env.pop(name, None)
        if recording is not None:
            env["MOTO_ENABLE_RECORDING"] = "true"
            env["MOTO_RECORDER_FILEPATH"] = str(recording)
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                _server_command(port),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        server = MotoServer(port=port, region=region, log_path=log_path, recording_path=recording)
        try:
            deadline = time.monotonic() + startup_timeout_seconds
            while not _is_up(server.endpoint_url):
                if process.poll() is not None:
                    raise MotoServerError(
                        f"moto_server exited with {process.returncode}:\n{_tail(log_path)}"
                    )
                if time.monotonic() > deadline:
                    raise MotoServerError(
                        f"moto_server not ready after {startup_timeout_seconds}s on port "
                        f"{port}:\n{_tail(log_path)}"
                    )
                time.sleep(0.1)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def moto_server_fixture(
    *, scope: Any = "session", region: str = DEFAULT_REGION, record: bool = False
) -> Callable[[], Iterator[MotoServer]]:
    """A pytest fixture (assign it to a name in a conftest) yielding a running MotoServer
    (``record``: with moto's recorder on, see :func:`running_moto_server`)."""

    @pytest.fixture(scope=scope)
    def _moto_server() -> Iterator[MotoServer]:
        shared = os.environ.get(SHARED_PORT_VARIABLE)
        if shared and not record:  # a recording needs a server of its own (its own file)
            server = MotoServer(port=int(shared), region=region, log_path=Path(os.devnull))
            if not _is_up(server.endpoint_url):
                raise MotoServerError(f"{SHARED_PORT_VARIABLE}={shared}: no moto_server there")
            server.reset()
            yield server
            return
        with running_moto_server(region=region, record=record) as server:
            yield server

    return _moto_server
