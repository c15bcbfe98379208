"""Loopback ports for servers that another process binds later.

The same rule as the Go tests' shared/tooling/freeport: a port from bind(0)
can be handed out again, to an outgoing connection or another listener,
before the server binds it (a lab's predict once found its port taken that
way). So ports come from below the kernel's ephemeral range, and each is
locked under $TMPDIR/claimrisk-ports (flock, as freeport does) for as long
as this process runs, so no Go test, benchmark or other pytest picks it.
"""

from __future__ import annotations

import fcntl
import os
import random
import socket
from pathlib import Path

_LOCKS: list[int] = []  # the reservations' descriptors, released when the process ends


def _ephemeral_start() -> int:
    """The first port the kernel hands out for bind(0) and outgoing connections."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_run(n: int) -> int:
    """The first of n consecutive free loopback ports, reserved as above."""
    lock_dir = Path(os.environ.get("TMPDIR") or "/tmp") / "claimrisk-ports"
    lock_dir.mkdir(exist_ok=True)
    try:
        lock_dir.chmod(0o1777)  # shared by every user, as /tmp is (its owner sets it)
    except PermissionError:
        pass
    high = min(_ephemeral_start(), 65536) - n
    for _ in range(200):
        base = random.randrange(10000, high)
        locks, socks = [], []
        try:
            for p in range(base, base + n):
                fd = os.open(lock_dir / str(p), os.O_RDONLY | os.O_CREAT, 0o644)
                locks.append(fd)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
        except OSError:
            for fd in locks:
                os.close(fd)
            continue
        finally:
            for s in socks:
                s.close()
        _LOCKS.extend(locks)
        return base
    raise RuntimeError("no run of free ports below the ephemeral range")


def free_port() -> int:
    """One free loopback port, reserved as above."""
    return free_run(1)
