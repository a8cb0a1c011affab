"""A private redis-server: Debian's binary on a free 127.0.0.1 port, in a folder of its own.

The cluster tests and the benchmark's cluster variants start one each. A
missing program raises MissingProgram and a server that does not come up
raises StartFailed (both RuntimeErrors), so each caller decides what that
means: a skipped or failed test, a failed benchmark run.
"""

import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import redis

from harness.ports import free_port

START_TIMEOUT = 10.0  # seconds for redis-server to say it is ready
STOP_TIMEOUT = 10.0  # seconds for redis-server to exit after SIGTERM, before SIGKILL


class MissingProgram(RuntimeError):
    """A program this machine lacks; `program` names it, the message says how to install it."""

    def __init__(self, program: str, package: str) -> None:
        super().__init__(f"{program} is not installed (apt-get install {package})")
        self.program = program


class StartFailed(RuntimeError):
    """redis-server exited or stayed silent instead of accepting connections."""


def redis_binary() -> str:
    """Return the path of redis-server; raise MissingProgram without one."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise MissingProgram("redis-server", "redis-server")
    return binary


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Make a certificate for 127.0.0.1 and its key with the openssl command; return both paths."""
    if shutil.which("openssl") is None:
        raise MissingProgram("openssl", "openssl")
    folder.mkdir(parents=True, exist_ok=True)
    certificate, key = folder / "redis.crt", folder / "redis.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(certificate), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return certificate, key


class RedisServer:
    """redis-server on 127.0.0.1 in a folder of its own; `persist` keeps an append-only file.

    With no persistence (the default) a restart empties it, as a fresh Redis
    would; with `persist=True` every write is fsynced before Redis answers, so
    a restart keeps whatever a client was told is stored. `password` makes it
    refuse clients that do not give it (`requirepass`); `tls=True` makes it
    speak TLS only, with a self-signed certificate made in its folder, and
    `url` then says `rediss://` and names that certificate as the one to trust.
    """

    def __init__(
        self, folder: Path, persist: bool = False, password: str | None = None,
        tls: bool = False,
    ) -> None:
        self.folder = folder
        self.persist = persist
        self.password = password
        self.tls = tls
        self.port = free_port()
        self.certificate: Path | None = None
        self.key: Path | None = None
        if tls:
            self.certificate, self.key = self_signed_certificate(folder / "tls")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the URL a node joins this Redis with (its password and CA included)."""
        auth = f":{self.password}@" if self.password else ""
        if self.tls:
            return f"rediss://{auth}127.0.0.1:{self.port}/0?ssl_ca_certs={self.certificate}"
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def client(self, **options: object) -> redis.Redis:
        """Return a plain client, as an operator (or an intruder) would use: text replies."""
        return redis.Redis.from_url(self.url, decode_responses=True, **options)

    def options(self, *extra: str) -> list[str]:
        """Return redis-server's command-line options: this server's, then `extra`."""
        options = ["--bind", "127.0.0.1", "--save", "", "--dir", str(self.folder), *extra]
        options += ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else [
            "--appendonly", "no"]
        if self.password:
            options += ["--requirepass", self.password]
        if self.tls:
            options += ["--port", "0", "--tls-port", str(self.port),
                        "--tls-cert-file", str(self.certificate), "--tls-key-file", str(self.key),
                        "--tls-ca-cert-file", str(self.certificate), "--tls-auth-clients", "no"]
        else:
            options += ["--port", str(self.port)]
        return options

    def start(self, *extra: str, cores: set[int] | None = None) -> None:
        """Start redis-server (with `extra` options) and return once it accepts connections.

        `cores` pins it to those CPUs from its first instruction, so that the
        threads it starts on the way up are pinned too (the benchmark's cores).
        """
        options = self.options(*extra)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [redis_binary(), *options], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores is not None else None,
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        """Read redis-server's output until it is ready; stop it and raise StartFailed if not."""
        assert self.process is not None and self.process.stdout is not None
        output = b""
        deadline = time.monotonic() + START_TIMEOUT
        while b"Ready to accept connections" not in output:
            readable, _, _ = select.select(
                [self.process.stdout], [], [], max(deadline - time.monotonic(), 0))
            chunk = os.read(self.process.stdout.fileno(), 4096) if readable else b""
            if not chunk:
                self.stop()
                raise StartFailed(f"redis-server did not start:\n{output.decode(errors='replace')}")
            output += chunk

    def stop(self) -> None:
        """Stop redis-server by its PID (SIGTERM, then SIGKILL) and wait for it to exit."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None
