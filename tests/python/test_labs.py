"""The labs as written: every runnable block of docs/labs, in order, against
the real system.

The six labs share one workspace, as a participant's checkout would be: a
temporary directory holding links to the repository's files (bin/,
notebooks/, docs/, config/, ...), with HOME and CLAIMRISK_HOME inside it so
that ~/.claimrisk of the person running the tests is never touched.
CLAIMRISK_HOME is deliberately not ~/.claimrisk: a command that reads
~/.claimrisk instead of $CLAIMRISK_HOME fails here, as it would quietly read
the wrong files for a participant who set it. Lab 1 starts `bin/claimrisk up`
in the background and the later labs use that one system (lab 6's exercises
restart it). Ports: the documented defaults (broker 8700 and the functions on
the next four, the exercises' notifier on 8705, MLflow 5050, Evidently 8001)
are mapped to free ports, in the commands and in `claimrisk up`'s flags, so a
system the developer runs meanwhile does not disturb the test.

Every exercise's solution runs, in order, like the steps. After the labs,
two tests look at what they left: no file in the checkout that git would
show as untracked, and notebooks whose outputs have the shape of those
stored in notebooks/ (CLAIMRISK_NOTEBOOKS_UPDATE=1 stores the fresh ones
instead).

Each lab's blocks are timed, steps and exercise solutions apart; the times
are printed at the end (they feed docs/time-planning.md) and written as JSON
to $CLAIMRISK_LAB_TIMINGS when that is set. Blocks marked `cluster` need the
cluster of `make cluster-up`: test_lab skips them, and test_lab_cluster runs
them (lab 4's cluster steps, as a participant types them) where
CLAIMRISK_LAB_CLUSTER=1, which .ci/run's cluster step sets once the cluster
is up. With CLAIMRISK_LAB_OUTPUTS=DIR each block's whole output is written
to DIR, for whoever updates the outputs the pages show.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import require_tool
from labdocs import Block, matches, parse
from notebookshape import differences
from ports import free_run

REPO = Path(__file__).resolve().parents[2]
LABS = [REPO / "docs" / "labs" / f"lab-{n}.md" for n in range(1, 7)]
BIN = Path(os.environ.get("CLAIMRISK_BIN") or REPO / "bin")
SHOWN_HOME = "/home/you"  # how the pages show the participant's home directory

# The documented default ports, by name.
DEFAULT_PORTS = {"broker": 8700, "train": 8701, "register": 8702, "predict": 8703, "drift": 8704, "notify": 8705, "mlflow": 5050, "evidently": 8001}
NOTEBOOKS = ["lab2-data.ipynb", "lab3-mlflow.ipynb", "lab5-monitoring.ipynb"]
BLOCK_TIMEOUT = 300
BACKGROUND_TIMEOUT = 300


@dataclass
class Workspace:
    root: Path
    home: Path
    claimrisk_home: Path
    env: dict[str, str]
    ports: dict[str, int]
    background: list[tuple[Block, subprocess.Popen, Path]] = field(default_factory=list)
    timings: dict[str, dict] = field(default_factory=dict)

    def rewrite(self, code: str) -> str:
        """The block as the test runs it: documented ports mapped to free ones."""
        by_default = {v: self.ports[k] for k, v in DEFAULT_PORTS.items()}
        code = re.sub(r"\b(127\.0\.0\.1|localhost):(\d{4})\b",
                      lambda m: f"{m.group(1)}:{by_default.get(int(m.group(2)), m.group(2))}", code)  # fmt: skip
        flags = f" --base-port {self.ports['broker']} --mlflow-port {self.ports['mlflow']} --evidently-port {self.ports['evidently']}"
        return re.sub(r"(bin/claimrisk up)(?=[ \t]|$)", lambda m: m.group(1) + flags, code, flags=re.M)

    def portable(self, text: str) -> str:
        """Text as a participant's run would show it: shown paths, and the documented ports."""
        by_test = {v: DEFAULT_PORTS[k] for k, v in self.ports.items()}
        text = re.sub(r"\b127\.0\.0\.1:(\d+)\b", lambda m: f"127.0.0.1:{by_test.get(int(m.group(1)), m.group(1))}", text)
        return self.shown(text)

    def shown(self, output: str) -> str:
        """Output as the pages show it: the participant's home as /home/you, CLAIMRISK_HOME as its default."""
        return output.replace(str(self.claimrisk_home), SHOWN_HOME + "/.claimrisk").replace(str(self.home), SHOWN_HOME)


def _say(config: pytest.Config, text: str) -> None:
    """Print past pytest's output capture, so a passing run shows it too."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(text, file=sys.stderr, flush=True)


def _user_caches() -> dict[str, str]:
    """The Go caches and the cluster build's cache of whoever runs the tests."""
    caches = {k: subprocess.run(["go", "env", k], capture_output=True, text=True, check=True).stdout.strip()
              for k in ("GOCACHE", "GOMODCACHE")}  # fmt: skip
    caches["CLAIMRISK_CLUSTER_CACHE"] = os.environ.get("CLAIMRISK_CLUSTER_CACHE") or str(Path.home() / ".cache" / "claimrisk-cluster")
    return caches


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Workspace]:
    require_tool("bin/claimrisk", (BIN / "claimrisk").exists() and all((BIN / f).exists() for f in ("train", "register", "predict", "drift")),
                 f"build it with make build (looked in {BIN})")  # fmt: skip
    require_tool("the project's Python environment", (REPO / ".venv" / "bin" / "mlflow").exists(), "make venv")
    require_tool("curl", shutil.which("curl") is not None, "apt-get install curl")
    root = tmp_path_factory.mktemp("lab-workspace")
    for entry in REPO.iterdir():
        # What the labs write (data/, work/) and what builds put there stays out.
        if entry.name in {"bin", ".git", "data", "work", "site"} or entry.name.startswith(".claimrisk"):
            continue
        (root / entry.name).symlink_to(entry)
    (root / "bin").symlink_to(BIN)
    home = root / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("CLAIMRISK_") or k.startswith("MLFLOW_") or k in {"K_SINK", "VIRTUAL_ENV", "PYTHONPATH"})}  # fmt: skip
    claimrisk_home = root / "claimrisk-home"
    env.update(HOME=str(home), CLAIMRISK_HOME=str(claimrisk_home), PYTHONUNBUFFERED="1", DO_NOT_TRACK="1")
    # A participant's builds use their own caches: the stand-in HOME must not
    # make the Go builds, or make cluster-up's build from source, start cold.
    env.update(_user_caches())
    base = free_run(6)
    ports = {name: base + i for i, name in enumerate(["broker", "train", "register", "predict", "drift", "notify"])}
    ports["mlflow"], ports["evidently"] = free_run(1), free_run(1)
    ws = Workspace(root=root, home=home, claimrisk_home=claimrisk_home, env=env, ports=ports)
    try:
        yield ws
    finally:
        for _, proc, _ in ws.background:
            _interrupt(proc)
        _report(request.config, ws)


def _interrupt(proc: subprocess.Popen) -> None:
    """Ctrl-C, as the participant stops a program in its terminal."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _report(config: pytest.Config, ws: Workspace) -> None:
    if not ws.timings:
        return
    lines = ["", "lab blocks: measured run time (commands and solutions only; reading, writing and discussion not included)"]
    for lab, t in ws.timings.items():
        lines.append(f"  {lab}: steps {t['seconds']:6.1f} s in {t['blocks']} blocks ({t['skipped']} not run); "
                     f"exercise solutions {t['solutions']:6.1f} s in {t['solution_blocks']} blocks")  # fmt: skip
        for name, seconds in t["exercises"].items():
            lines.append(f"      {name}: {seconds:.1f} s")
    lines.append(f"  total: steps {sum(t['seconds'] for t in ws.timings.values()):.1f} s, "
                 f"solutions {sum(t['solutions'] for t in ws.timings.values()):.1f} s")  # fmt: skip
    _say(config, "\n".join(lines))
    if path := os.environ.get("CLAIMRISK_LAB_TIMINGS"):
        Path(path).write_text(json.dumps(ws.timings, indent=2) + "\n")


def _command(block: Block) -> list[str]:
    if block.lang == "python":
        return [str(REPO / ".venv" / "bin" / "python"), "-c", block.code]
    return ["bash", "-e", "-c", block.code]


def _run_once(ws: Workspace, block: Block, code: str) -> tuple[int, str]:
    proc = subprocess.run(_command(Block(**{**block.__dict__, "code": code})), cwd=ws.root, env=ws.env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=block.timeout or BLOCK_TIMEOUT)  # fmt: skip
    output = ws.shown(proc.stdout)
    if outputs := os.environ.get("CLAIMRISK_LAB_OUTPUTS"):  # for whoever updates the pages' outputs
        Path(outputs).mkdir(parents=True, exist_ok=True)
        (Path(outputs) / f"{block.page}-{block.line}.txt").write_text(f"$ {code}\n{output}\n(exit {proc.returncode})\n")
    return proc.returncode, output


def _verdict(block: Block, code: int, output: str) -> str:
    """Why a block's run does not pass, or "" when it does."""
    if block.fails and code == 0:
        return "exited 0 but the page says it fails"
    if not block.fails and code != 0:
        return f"exited {code}"
    if block.expected is not None:
        ok, missing = matches(block.expected, output)
        if not ok:
            return f"its output no longer shows the line {missing!r}"
    return ""


def _run(ws: Workspace, block: Block) -> None:
    code = ws.rewrite(block.code)
    if block.background:
        _start(ws, block, code)
        return
    deadline = time.monotonic() + block.retry
    while True:
        status, output = _run_once(ws, block, code)
        why = _verdict(block, status, output)
        if not why:
            return
        if time.monotonic() >= deadline:
            pytest.fail(f"{block.where}: {why}\n--- block\n{code}--- output\n{output}", pytrace=False)
        time.sleep(2)


def _start(ws: Workspace, block: Block, code: str) -> None:
    if block.restart:  # Ctrl-C in terminal 2 first
        for earlier, proc, _ in ws.background:
            if "claimrisk up" in earlier.code:
                _interrupt(proc)
    log = ws.root / f"background-{block.page}-{block.line}.log"
    out = log.open("w")
    if block.lang != "python":
        # The shell becomes the program, so Ctrl-C reaches it; variables set
        # before the command (CLAIMRISK_MIN_GINI=0.45 bin/claimrisk up) stay in front.
        code = re.sub(r"^((?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)", r"\1exec ", code, count=1)
    proc = subprocess.Popen(_command(Block(**{**block.__dict__, "code": code})), cwd=ws.root, env=ws.env,
                            stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    ws.background.append((block, proc, log))
    deadline = time.monotonic() + BACKGROUND_TIMEOUT
    while True:
        output = ws.shown(log.read_text())
        if block.expected is None or matches(block.expected, output)[0]:
            return
        if proc.poll() is not None:
            pytest.fail(f"{block.where}: exited {proc.returncode} before showing what the page shows\n{output}", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(f"{block.where}: not ready after {BACKGROUND_TIMEOUT} s\n{output}", pytrace=False)
        time.sleep(1)


def _container_engine() -> bool:
    """Whether make images can build: podman, or docker with a daemon that answers."""
    if shutil.which("podman"):
        return True
    return shutil.which("docker") is not None and subprocess.run(["docker", "info"], capture_output=True).returncode == 0


@pytest.mark.parametrize("page", LABS, ids=[p.stem for p in LABS])
def test_lab(page: Path, workspace: Workspace, request: pytest.FixtureRequest) -> None:
    blocks = parse(page)
    assert blocks, f"{page.name} has no runnable blocks"
    assert any(b.exercise for b in blocks), f"{page.name} runs no exercise solution"
    seconds, ran, skipped = 0.0, 0, 0
    solutions, solution_blocks, exercises = 0.0, 0, {}
    try:
        for block in blocks:
            if block.skip_reason:
                _say(request.config, f"SKIP {block.where}: {block.skip_reason}")
                skipped += 1
                continue
            if block.cluster:
                _say(request.config, f"SKIP {block.where}: a cluster step; test_lab_cluster runs it on the cluster of make cluster-up")
                skipped += 1
                continue
            if block.containers and not _container_engine():
                if os.environ.get("CLAIMRISK_REQUIRE_TOOLS") == "1":
                    pytest.fail(f"{block.where}: needs podman or docker (CLAIMRISK_REQUIRE_TOOLS=1)", pytrace=False)
                _say(request.config, f"SKIP {block.where}: needs podman or docker")
                skipped += 1
                continue
            start = time.monotonic()
            _run(workspace, block)
            took = time.monotonic() - start
            if block.exercise:
                solutions += took
                solution_blocks += 1
                exercises[block.exercise] = round(exercises.get(block.exercise, 0) + took, 1)
            else:
                seconds += took
                ran += 1
    finally:
        workspace.timings[page.stem] = {"seconds": round(seconds, 1), "blocks": ran, "skipped": skipped,
                                        "solutions": round(solutions, 1), "solution_blocks": solution_blocks, "exercises": exercises}  # fmt: skip


def test_labs_leave_no_untracked_files(workspace: Workspace) -> None:
    """What the labs write into the checkout, git ignores: a participant's `git status` stays clean."""
    if not workspace.timings:
        pytest.skip("the labs did not run")
    ours = {"home", "claimrisk-home"}  # the test's stand-ins for $HOME and $CLAIMRISK_HOME
    written = sorted(p.name + ("/" if p.is_dir() else "") for p in workspace.root.iterdir()
                     if not p.is_symlink() and p.name not in ours and not p.name.startswith("background-"))  # fmt: skip
    if not written:
        return
    ignored = subprocess.run(["git", "-C", str(REPO), "check-ignore", "--no-index", "--stdin"], input="\n".join(written),
                             capture_output=True, text=True).stdout.split()  # fmt: skip
    untracked = [w for w in written if w not in ignored]
    assert not untracked, f"the labs write {untracked} into the checkout, where git shows them as untracked: write under data/ or work/"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_outputs_keep_their_shape(name: str, workspace: Workspace) -> None:
    """The labs ran each notebook (notebooks/run.py); its outputs must look like the stored ones the prose explains."""
    fresh = workspace.claimrisk_home / "notebooks" / name
    if not workspace.timings:
        pytest.skip("the labs did not run")
    assert fresh.exists(), f"the labs did not run notebooks/{name} (no {fresh})"
    stored = REPO / "notebooks" / name
    portable = fresh.with_name(f"portable-{name}")  # the test's paths and ports as a participant's run shows them
    portable.write_text(workspace.portable(fresh.read_text()))
    if os.environ.get("CLAIMRISK_NOTEBOOKS_UPDATE") == "1":
        shutil.copyfile(portable, stored)
        return
    found = differences(stored, portable)
    assert not found, "the notebook's outputs no longer have the stored shape (CLAIMRISK_NOTEBOOKS_UPDATE=1 stores the new ones):\n" + "\n".join(found)


def test_lab_cluster(workspace: Workspace, request: pytest.FixtureRequest) -> None:
    """The labs' cluster steps, in order, on the cluster of `make cluster-up`
    (kind, or the one built from source), as a participant types them."""
    if os.environ.get("CLAIMRISK_LAB_CLUSTER") != "1":
        pytest.skip("needs the cluster of make cluster-up: .ci/run's cluster step runs it with CLAIMRISK_LAB_CLUSTER=1")
    ran = 0
    for page in LABS:
        seconds, count, solutions, solution_blocks, exercises = 0.0, 0, 0.0, 0, {}
        for block in parse(page):
            if not block.cluster or block.skip_reason:
                continue
            start = time.monotonic()
            _run(workspace, block)
            took = time.monotonic() - start
            if block.exercise:
                solutions += took
                solution_blocks += 1
                exercises[block.exercise] = round(exercises.get(block.exercise, 0) + took, 1)
            else:
                seconds += took
                count += 1
        if count or solution_blocks:
            workspace.timings[page.stem + " (cluster)"] = {"seconds": round(seconds, 1), "blocks": count, "skipped": 0,
                                                           "solutions": round(solutions, 1), "solution_blocks": solution_blocks, "exercises": exercises}  # fmt: skip
            ran += count + solution_blocks
    assert ran, "no lab has a cluster step"


def test_workspace_keeps_the_users_build_caches(workspace: Workspace) -> None:
    """The stand-in HOME must not start the labs' builds cold: lab 4's make
    cluster-up would otherwise rebuild the whole cluster from source (half an hour)."""
    for key, value in _user_caches().items():
        assert workspace.env[key] == value, f"the lab workspace's {key} is {workspace.env.get(key)!r}, not the user's {value!r}"
        assert not value.startswith(str(workspace.root)), f"{key} lies inside the lab workspace"


def test_make_keeps_the_commit_it_is_given(workspace: Workspace) -> None:
    """.ci/run passes COMMIT into lab 4's make deploy, whose workspace has no
    .git, so that it deploys the images already in the cluster. The Makefile
    once replaced it with "dev", which rolled every Service out again."""
    out = subprocess.run(["make", "-n", "build"], cwd=workspace.root, env=workspace.env | {"COMMIT": "0123456789ab"},
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "version.Commit=0123456789ab" in out, out
    assert "version.Commit=dev" not in out, out
