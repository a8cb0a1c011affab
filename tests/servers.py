"""Chat servers as a person runs them: `python run.py` in a subprocess on a free port."""

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.ports import free_port  # noqa: F401 (shared with bench/; tests import it from here)

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 15.0  # seconds for run.py to print its URL
STOP_TIMEOUT = 10.0  # seconds for run.py to exit after SIGTERM


class ChatServer:
    """run.py in a subprocess on a fixed port, so a test can stop and restart it.

    Its history goes to chat.db beside its log, so a restart keeps it and no
    test touches the repository's own chat.db; `--db` in `options` overrides that.
    """

    def __init__(self, port: int, log_path: Path, *options: str) -> None:
        self.port = port
        self.options = options
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.banner: list[str] = []  # what it printed on start, up to its URL

    def start(self) -> None:
        """Start run.py and return once it has printed the URL it serves."""
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the fd
            self.process = subprocess.Popen(
                [sys.executable, "run.py", "--port", str(self.port), "--host", "127.0.0.1",
                 "--db", str(self.log_path.with_name("chat.db")), *self.options],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        self._wait_for_url()

    def _wait_for_url(self) -> None:
        """Read the server's stdout until the line with its URL; fail if it exits or hangs."""
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout.fileno()
        deadline = time.monotonic() + START_TIMEOUT
        output = b""
        while self.url not in self.printed(output):
            remaining = deadline - time.monotonic()
            readable, _, _ = select.select([stdout], [], [], max(remaining, 0))
            if not readable:
                self._give_up(f"run.py printed no {self.url} within {START_TIMEOUT} s")
            chunk = os.read(stdout, 4096)
            if not chunk:
                self._give_up(f"run.py exited before printing {self.url}")
            output += chunk
        self.banner = self.printed(output)

    @staticmethod
    def printed(output: bytes) -> list[str]:
        """Return the lines of what the server printed, without surrounding spaces."""
        return [line.strip() for line in output.decode().splitlines()]

    def _give_up(self, reason: str) -> None:
        """Stop the server and fail the test with what it logged."""
        self.stop()
        pytest.fail(f"{reason}; its log:\n{self.log_path.read_text(errors='replace')}")

    def stop(self) -> int | None:
        """Stop the server by its PID (SIGTERM, then SIGKILL if it stays); return its exit code."""
        if self.process is None:
            return None
        self.process.terminate()
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(timeout=STOP_TIMEOUT)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None
        return code


# run.py under a lower limit on open files, set by the new process itself before it
# runs run.py (a preexec_fn could deadlock once the test process has threads).
RUN_WITH_FILE_LIMIT = (
    "import resource, runpy, sys; soft, hard = map(int, sys.argv[1:3]); "
    "resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)); "
    "sys.argv[:3] = ['run.py']; runpy.run_path('run.py', run_name='__main__')"
)


class LimitedChatServer(ChatServer):
    """run.py started with a (soft, hard) limit on open files, as on a small host or container."""

    def __init__(
        self, port: int, log_path: Path, file_limit: tuple[int, int], *options: str
    ) -> None:
        super().__init__(port, log_path, *options)
        self.file_limit = file_limit

    def start(self) -> None:
        """Start run.py under the file limit and return once it has printed the URL it serves."""
        soft, hard = self.file_limit
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", RUN_WITH_FILE_LIMIT, str(soft), str(hard),
                 "--port", str(self.port), "--host", "127.0.0.1",
                 "--db", str(self.log_path.with_name("chat.db")), *self.options],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        self._wait_for_url()

    def open_files_limit(self) -> tuple[int, int]:
        """Return the server's (soft, hard) limit on open files as it is now (Linux /proc)."""
        assert self.process is not None
        limits = Path(f"/proc/{self.process.pid}/limits").read_text()
        [line] = [line for line in limits.splitlines() if line.startswith("Max open files")]
        soft, hard = line.split()[3:5]
        return int(soft), int(hard)

    def cpu_seconds(self) -> float:
        """Return the CPU time the server has used so far, user plus system (Linux /proc)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
