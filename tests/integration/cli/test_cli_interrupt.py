"""Ctrl-C during a run: one line, exit status 130, no traceback, the work so far saved."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI, delayed

REPO = Path(__file__).resolve().parents[3]
HF_FILE = REPO / "tests" / "fixtures" / "hf-2024-09-24.json"


@dataclass
class Summarizing:
    """A ``paperdigest run`` started in its own process group, now calling the model."""

    process: subprocess.Popen[str]
    lines: list[str]
    reader: threading.Thread

    def stop(self, how: signal.Signals, group: bool = True) -> tuple[int, str]:
        """Send ``how`` (to the process group, as a terminal does, or to the CLI alone)."""
        if group:
            os.killpg(self.process.pid, how)
        else:
            self.process.send_signal(how)
        code = self.process.wait(60)
        self.reader.join(10)
        return code, "".join(self.lines)


def start_summarizing(tmp_path: Path, fake: FakeOpenAI) -> Summarizing:
    """Start a run on the slow ``fake`` and return once its first model call is under way."""
    env = {**os.environ, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.base_url}
    argv = [str(Path(sys.executable).parent / "paperdigest"), "run", "--input", str(HF_FILE)]
    argv += ["--root", str(REPO), "--state", str(tmp_path / "state")]
    argv += ["--out", str(tmp_path / "site")]
    run = subprocess.Popen(
        argv,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    selected = threading.Event()

    def read() -> None:
        assert run.stderr is not None
        for line in run.stderr:
            lines.append(line)
            if "papers selected" in line:
                selected.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert selected.wait(120), "".join(lines)
    while not fake.calls and run.poll() is None:
        time.sleep(0.1)
    return Summarizing(run, lines, reader)


def test_ctrl_c_during_summarizing_stops_the_run_cleanly(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        # Slow answers, so that the run is still summarizing when the user presses Ctrl-C
        fake.default = delayed(30)
        run = start_summarizing(tmp_path, fake)

        # When Ctrl-C reaches the terminal's process group
        code, err = run.stop(signal.SIGINT)

    assert code == 130, err
    assert err.rstrip().splitlines()[-1].startswith("interrupted; what finished is kept in ")
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert not (tmp_path / "site" / "digests").exists()
    # The run so far is saved: its record, and its papers' messages back in the queue
    state = json.loads((tmp_path / "state" / "state.json").read_text(encoding="utf-8"))
    items = [item for table in state["tables"].values() for item in table]
    assert {"S": "RUN#2024-09-24"} in [item["pk"] for item in items]
    assert len(state["queues"]["PapersQueue"]) == 14

    # And redrive, with the endpoint answering, finishes the interrupted run
    with FakeOpenAI() as fake:
        env = {**os.environ, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.base_url}
        argv = [str(Path(sys.executable).parent / "paperdigest"), "redrive", "--root", str(REPO)]
        argv += ["--state", str(tmp_path / "state"), "--out", str(tmp_path / "site")]
        redrive = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )

    assert redrive.returncode == 0, redrive.stderr
    assert "finishing the unfinished run of 2024-09-24" in redrive.stderr
    digest = Path(redrive.stdout.strip().splitlines()[-1])
    assert digest == tmp_path / "site" / "digests" / "2024-09-24" / "index.md"
    assert digest.is_file()
    # each paper asked once, though its message and a lease of the interrupted run were left
    asked = [
        re.search(r'<paper id="([^"]+)"', r.user_text).group(1)  # type: ignore[union-attr]
        for r in fake.requests
        if "category" in (r.schema or {}).get("properties", {})
    ]
    assert len(asked) == len(set(asked)) == 14


def test_sigterm_stops_the_run_as_ctrl_c_does(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.default = delayed(30)
        run = start_summarizing(tmp_path, fake)

        # When a service manager sends SIGTERM to the command alone
        code, err = run.stop(signal.SIGTERM, group=False)

    # Then it stops with its own status and line, and saves the run so far
    assert code == 143, err
    assert err.rstrip().splitlines()[-1].startswith("terminated; what finished is kept in ")
    assert "Traceback" not in err
    state = json.loads((tmp_path / "state" / "state.json").read_text(encoding="utf-8"))
    assert len(state["queues"]["PapersQueue"]) == 14


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found |= {int(child)} | _descendants(int(child))
    return found


def _alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"  # a zombie has ended; only its exit status is left


def test_helpers_of_a_killed_run_end_with_it(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.default = delayed(30)
        run = start_summarizing(tmp_path, fake)
        # (the moto server, the consumer's fork server and its workers)
        helpers = _descendants(run.process.pid)
        assert len(helpers) >= 3

        # When the command is killed outright, with no chance to clean up
        code, _ = run.stop(signal.SIGKILL, group=False)

        # Then every process it started ends on its own within seconds
        deadline = time.monotonic() + 20
        while {p for p in helpers if _alive(p)} and time.monotonic() < deadline:
            time.sleep(0.2)
    assert code == -signal.SIGKILL
    assert {p for p in helpers if _alive(p)} == set()
