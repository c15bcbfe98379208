"""The Evidently workspace the runs of successive windows are collected in.

A workspace is a local directory that ``evidently ui`` serves. The runs of
each window are added to one project as snapshots stamped with the window's
end, so the project's dashboard shows one point per window. Re-running a
window adds its snapshots again; the dashboard then shows both points.
"""

from __future__ import annotations

from pathlib import Path

from evidently.core.report import Snapshot
from evidently.ui.workspace import Project, Workspace

from monitoring.errors import MonitoringError

DEFAULT_PROJECT = "claim-risk"
_DESCRIPTION = "Drift and quality of the claim-risk model, one point per payload-log window."


def open_workspace(path: str) -> Workspace:
    """Open (creating if needed) the local workspace directory at path."""
    directory = Path(path).expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MonitoringError(f"workspace {path}: {e.strerror or e}") from None
    return Workspace(str(directory))


def project(workspace: Workspace, name: str) -> Project:
    """The project called name, created when missing."""
    found = workspace.search_project(name)
    if found:
        return found[0]
    return workspace.create_project(name, description=_DESCRIPTION)


def add_runs(workspace: Workspace, project_name: str, snapshots: list[Snapshot]) -> list[str]:
    """Add the snapshots to the project (created if missing); their ids, in order."""
    target = project(workspace, project_name)
    return [str(workspace.add_run(target.id, snapshot).id) for snapshot in snapshots]
