"""fork_workers: run the server in several processes that share one listening socket.

`run.py --processes N` binds the port, then forks; every worker accepts on the
same socket and the kernel spreads connections among them. The workers only
form one chat room through Redis, which is why run.py refuses N > 1 without it.
"""

import logging
import os
import signal
import sys
from typing import NoReturn

log = logging.getLogger(__name__)


def fork_workers(count: int) -> None:
    """Fork `count` workers and return in each; the parent supervises them and never returns."""
    children: set[int] = set()
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            return
        children.add(pid)
    log.info("Started %d workers: %s", count, ", ".join(map(str, sorted(children))))
    supervise(children)


def supervise(children: set[int]) -> NoReturn:
    """Pass SIGINT and SIGTERM on to the workers, wait for them all, exit 1 if any failed.

    A worker that dies on its own stops the others, so a broken cluster fails
    loudly and the operator's supervisor (systemd, Docker) restarts it whole.
    """
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:  # it exited a moment ago; os.wait() will say how
                pass

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    failed = False
    while children:
        pid, status = os.wait()
        children.discard(pid)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            failed = True
            if not stopping:
                log.error("Worker %d exited with code %d; stopping the others", pid, code)
                stop(signal.SIGTERM, None)
    sys.exit(1 if failed else 0)
