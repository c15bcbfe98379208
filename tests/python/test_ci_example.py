"""The CI/CD example of lab 6 (.github/workflows): it parses, has the jobs
the lab describes, and calls only scripts and make targets that exist. It is
never run here; the project's own check is .ci/run."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "model-ci.yml"


def _workflow() -> dict:
    # PyYAML reads the key "on" as the boolean True (YAML 1.1).
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_has_the_jobs_lab_6_describes() -> None:
    wf = _workflow()
    assert wf[True] == {"push": {"branches": ["main"]}, "pull_request": None, "workflow_dispatch": None}
    jobs = wf["jobs"]
    assert list(jobs) == ["lint", "test", "manifests", "model-gate", "images", "deploy"]
    assert jobs["images"]["needs"] == ["test", "manifests", "model-gate"]
    assert jobs["deploy"]["environment"] == "production"
    for name, job in jobs.items():
        assert job["runs-on"].startswith("ubuntu-"), name
        assert all("uses" in step or "run" in step for step in job["steps"]), name


def test_the_workflow_calls_what_exists() -> None:
    targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), flags=re.M))
    for job in _workflow()["jobs"].values():
        for step in job["steps"]:
            run = step.get("run", "")
            for target in re.findall(r"\bmake ([a-z][a-z-]*)", run):
                assert target in targets, f"make {target} is not a Makefile target"
            for script in re.findall(r"(\.github/scripts/[\w.-]+)", run):
                path = REPO / script
                assert path.exists() and path.stat().st_mode & 0o111, f"{script} is missing or not executable"
