"""Serve a workspace with Evidently's own UI service.

serve replaces this process with the ``evidently ui`` command of the same
environment: the ``evidently`` script installed beside sys.executable, so
the UI runs on the Evidently this job uses, and signals sent to this process
(Ctrl-C, a supervisor's SIGTERM) reach the server itself. Usage telemetry
is off unless DO_NOT_TRACK is already set otherwise: the workshop runs
offline.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import NoReturn

from monitoring.errors import MonitoringError


def serve(workspace: str, host: str, port: int) -> NoReturn:
    """Run Evidently's UI on the workspace in place of this process."""
    directory = Path(workspace).expanduser()
    if not directory.is_dir():
        raise MonitoringError(
            f"workspace {workspace} does not exist; fill it first with `python -m monitoring report --workspace ...`"
        )
    command = evidently_command()
    env = {**os.environ}
    env.setdefault("DO_NOT_TRACK", "1")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(command, [command, "ui", "--workspace", str(directory), "--host", host, "--port", str(port)], env)


def evidently_command() -> str:
    """The path of the ``evidently`` command beside this interpreter."""
    # Not resolved: in a venv, sys.executable is the venv's link to the base interpreter.
    scripts = Path(sys.executable).parent
    found = shutil.which("evidently", path=str(scripts))
    if found is None:
        raise MonitoringError(f"no evidently command in {scripts}; install the Python requirements with `make venv`")
    return found
