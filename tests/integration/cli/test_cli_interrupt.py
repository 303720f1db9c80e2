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
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI, delayed

REPO = Path(__file__).resolve().parents[3]
HF_FILE = REPO / "tests" / "fixtures" / "hf-2024-09-24.json"


def test_ctrl_c_during_summarizing_stops_the_run_cleanly(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        # Slow answers, so that the run is still summarizing when the user presses Ctrl-C
        fake.default = delayed(30)
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
        assert run.stderr is not None
        lines: list[str] = []
        summarizing = threading.Event()

        def read() -> None:
            assert run.stderr is not None
            for line in run.stderr:
                lines.append(line)
                if "papers selected" in line:
                    summarizing.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert summarizing.wait(120), "".join(lines)
        # (once the first model call is under way)
        while not fake.calls and run.poll() is None:
            time.sleep(0.1)

        # When Ctrl-C reaches the terminal's process group
        os.killpg(run.pid, signal.SIGINT)
        code = run.wait(60)
        reader.join(10)

    err = "".join(lines)
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
