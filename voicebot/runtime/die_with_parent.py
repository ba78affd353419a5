"""`python die_with_parent.py PARENT_PID COMMAND...`: runs COMMAND so the kernel stops it when the engine dies.

Linux's PR_SET_PDEATHSIG sends the child SIGTERM the moment its parent exits, even by
SIGKILL, and survives the exec below; a child whose parent is already gone exits at once.
Without it, a killed engine left Rasa, the action server and Piper running on their ports
(their own sessions). Standard library only: it runs before any environment is imported.
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1

if __name__ == "__main__":
    parent, command = int(sys.argv[1]), sys.argv[2:]
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        sys.exit(f"prctl(PR_SET_PDEATHSIG) failed: errno {ctypes.get_errno()}")
    if os.getppid() != parent:
        sys.exit("the engine exited before this child started")
    os.execv(command[0], command)
