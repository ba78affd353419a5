"""Before `serve` starts anything: every port it needs is free, or the error names who holds it.

An engine killed without its children (an older version, `kill -9` of a whole session) left
processes on Rasa's or Piper's port; the next start then failed with a bare "exited during
start-up", or talked to the stale Rasa. Linux only: the holder is found through /proc.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path


def port_holder(port: int) -> str:
    """'pid 123 (rasa run ...)' for the process listening on TCP `port`, or 'an unknown process'."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                    return f"pid {pid} ({command[:120]})"
        except OSError:
            continue  # gone, or not ours to read
    return "an unknown process"


def busy_ports(wanted: dict[str, tuple[str, int]]) -> list[str]:
    """For each {label: (host, port)} already taken, a line saying so and by whom."""
    problems = []
    for label, (host, port) in wanted.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is no conflict
            try:
                probe.bind((host, port))
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                problems.append(f"port {port} ({label}) is in use by {port_holder(port)}")
    return problems
