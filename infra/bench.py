"""Print the numbers behind the README's Performance section; asserts nothing.

Sizes and cold starts come from the SAM build (``make bench`` builds first), local
runs from ``paperdigest run`` on the recorded 1314-entry arXiv response. The machine
is shared and noisy: every time is a median of fresh processes, and the figures that
matter are ratios.

Usage: ``python infra/bench.py [--only sizes,cold,local,parallel] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import lambdasim

REPO = lambdasim.REPO
ARXIV = (
    REPO.parent
    / "shared/data/arxiv/atom/rag-2024"
    / ("all_retrieval_augmented_generation_1314entries_2024-12-26.xml")
)
RUN_SIZES = (100, 500, 1314)
MB = 2**20

# What each handler needs at first use, and the heaviest library behind it.
FIRST_USE = {
    "IngestFunction": ("paperdigest.pipeline.ingest", "paperdigest.sources.fetch"),
    "SummarizeFunction": ("paperdigest.engines", "paperdigest.summarize.embedded"),
    "PublishFunction": ("paperdigest.render.chart", "paperdigest.render.markdown"),
}
HEAVIEST = {
    "IngestFunction": ("boto3",),
    "SummarizeFunction": ("boto3", "openai", "sumy.summarizers.text_rank"),
    "PublishFunction": ("boto3", "matplotlib.figure"),
}
LLM_FIRST_USE = ("paperdigest.engines", "paperdigest.summarize.llm")
TARGET_MS = 100

PARALLEL_PAPERS = 100
PARALLEL_CONCURRENCY = 10
PARALLEL_DELAYS_S = (0.0, 0.5, 1.0, 2.0)


def table(headers: list[str], rows: list[list[object]]) -> None:
    """Print a Markdown table."""
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    print()


# --- machine -------------------------------------------------------------------------
def machine() -> None:
    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()
    py312 = subprocess.run(
        [lambdasim.python312(), "--version"], capture_output=True, text=True, check=True
    )
    print("## Machine\n")
    table(
        ["", ""],
        [
            ["CPUs (nproc)", os.cpu_count()],
            ["memory", f"{int(meminfo[1]) / 2**20:.1f} GiB"],
            ["OS", platform.platform()],
            ["dev Python (local runs)", platform.python_version()],
            ["Lambda Python (build, cold starts)", py312.stdout.split()[-1]],
            ["read-only image mounts", lambdasim.read_only_mounts()],
        ],
    )


# --- sizes ---------------------------------------------------------------------------
def sizes(functions: dict[str, lambdasim.BuiltFunction]) -> None:
    print("## Sizes (unzipped, from .aws-sam/build, bytecode included)\n")
    rows = []
    for name, function in functions.items():
        code, *layers = function.folders()
        parts = [f"{code.name} {lambdasim.tree_size(code) / MB:.2f}"]
        parts += [f"{p.parent.name} {lambdasim.tree_size(p) / MB:.1f}" for p in layers]
        total = sum(lambdasim.tree_size(f) for f in function.folders())
        share = total / lambdasim.UNZIPPED_LIMIT
        rows.append([name, " + ".join(parts), f"{total / MB:.1f}", f"{share:.0%}"])
    table(["function", "code + layers (MB)", "total MB", "of 250 MB"], rows)


# --- cold starts ---------------------------------------------------------------------
def median_ms(image: lambdasim.Image, code: str, repeats: int) -> float:
    """Median wall time of a fresh python3.12 running ``code`` in ``image``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = lambdasim.run(image, ["-c", code])
        times.append(time.perf_counter() - start)
        if result.returncode:
            raise RuntimeError(f"{code!r} failed in {image.function.name}: {result.stderr}")
    return statistics.median(times) * 1000


def imports(*modules: str) -> str:
    return "import " + ", ".join(modules)


def cold_starts(functions: dict[str, lambdasim.BuiltFunction], repeats: int) -> None:
    print(
        f"## Cold-start imports (python3.12, median of {repeats}, interpreter start subtracted)\n"
    )
    rows = []
    for name, function in functions.items():
        with tempfile.TemporaryDirectory() as folder:
            plain = lambdasim.assemble(function, Path(folder) / "plain", bytecode=False)
            compiled = lambdasim.assemble(function, Path(folder) / "compiled")
            handler = function.handler.rpartition(".")[0]
            probes = [(f"handler ({handler})", imports(handler))]
            probes.append(("handler + first use", imports(handler, *FIRST_USE[name])))
            if name == "SummarizeFunction":
                probes.append(("handler + first use (LLM)", imports(handler, *LLM_FIRST_USE)))
            probes += [(f"bare {lib}", imports(lib)) for lib in HEAVIEST[name]]
            for image_name, image in (("no .pyc", plain), (".pyc", compiled)):
                base = median_ms(image, "pass", repeats)
                for label, code in probes:
                    ms = median_ms(image, code, repeats) - base
                    rows.append([name, image_name, label, f"{ms:.0f}", f"{base:.0f}"])
    table(["function", "build", "import", "ms", "interpreter start ms"], rows)
    print(
        f"Target: handler import <= its heaviest library + {TARGET_MS} ms. Compare the .pyc rows.\n"
    )


# --- local runs ----------------------------------------------------------------------
def run_cli(
    argv: list[str], env: dict[str, str], cwd: Path, on_line: Callable[[str], None]
) -> tuple[float, int, int]:
    """Run a child to the end; return (wall seconds, peak RSS in KiB, exit code)."""
    start = time.perf_counter()
    child = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert child.stderr is not None
    for line in child.stderr:
        on_line(line)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss, child.returncode


class Phases:
    """Reads the CLI's stderr as it comes: when ingest and summarizing ended."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.selected = 0
        self.ingested = math.nan
        self.summarized = math.nan

    def __call__(self, line: str) -> None:
        found = re.search(r"(\d+) papers? selected", line)
        if found:
            self.selected = int(found.group(1))
            self.ingested = time.perf_counter() - self.start
        if re.search(r"papers? summarized(, \d+ failed)? in ", line):
            self.summarized = time.perf_counter() - self.start


def local_run(n: int) -> list[object]:
    """One fresh ``paperdigest run`` of ``n`` papers in a child; return its table row."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    with tempfile.TemporaryDirectory() as folder:
        argv = [
            *(str(REPO / ".venv/bin/paperdigest"), "run", "--fresh"),
            *("--root", str(REPO), "--input", str(ARXIV), "--max-papers", str(n)),
            *("--state", f"{folder}/state", "--out", f"{folder}/site"),
        ]
        phases = Phases()
        wall, rss_kib, code = run_cli(argv, env, Path(folder), phases)
    papers = phases.selected or n
    return [
        n,
        papers,
        "ok" if code == 0 else f"exit {code}",
        f"{wall:.1f}",
        f"{phases.ingested:.1f}",
        f"{phases.summarized - phases.ingested:.1f}",
        f"{wall - phases.summarized:.1f}",
        f"{papers / wall:.2f}",
        f"{wall / papers * 1000:.0f}",
        f"{rss_kib / 1024:.0f}",
    ]


def local_runs(sizes_: tuple[int, ...]) -> None:
    print("## Local pipeline: `paperdigest run --fresh` on moto, embedded summarizer\n")
    rows = [local_run(n) for n in sizes_]
    headers = ["--max-papers", "selected", "result", "wall s", "start + ingest s"]
    headers += ["summarize s", "publish + save s", "papers/s", "ms/paper", "peak RSS MB"]
    table(headers, rows)
    per_paper = {int(str(row[0])): float(str(row[8])) for row in rows}
    small, large = min(per_paper), max(per_paper)
    ratio = per_paper[large] / per_paper[small]
    print(f"Per-paper time, {large} papers against {small}: {ratio:.2f}x\n")


# --- parallel delivery ---------------------------------------------------------------
# Runs in a child: the CLI with the runner's concurrency raised; times the drain and
# the moment the first category batch is handed out (every paper settled by then).
PARALLEL_CHILD = """
import json, sys, time
from paperdigest.local import runner
concurrency = int(sys.argv[1])
original_init, original_drain = runner.Runner.__init__, runner.Runner.drain
original_deliver = runner.Runner._deliver
timing = {}

def init(self, *args, **kwargs):
    original_init(self, *args, **kwargs)
    self.max_concurrency = concurrency

def drain(self, *args, **kwargs):
    timing["start"] = time.perf_counter()
    try:
        return original_drain(self, *args, **kwargs)
    finally:
        timing["drain_s"] = time.perf_counter() - timing["start"]

def deliver(self, environments, spec, url, arn, messages, stats):
    if "papers_s" not in timing and any('"category"' in m["Body"] for m in messages):
        timing["papers_s"] = time.perf_counter() - timing["start"]
    return original_deliver(self, environments, spec, url, arn, messages, stats)

runner.Runner.__init__, runner.Runner.drain, runner.Runner._deliver = init, drain, deliver
from paperdigest.cli import main
code = main(sys.argv[2:])
timing.pop("start", None)
print(json.dumps({"exit": code, **timing}), file=sys.stderr)
"""


def llm_run(delay_s: float) -> dict[str, float]:
    """A run on the fake endpoint answering after ``delay_s``: exit, drain, papers, wall, calls."""
    from tests.fakes.openai_server import FakeOpenAI, delayed

    with FakeOpenAI() as fake, tempfile.TemporaryDirectory() as folder:
        fake.default = delayed(delay_s)
        env = {**os.environ, "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": fake.base_url}
        report: dict[str, float] = {"drain_s": math.nan, "papers_s": math.nan}

        def on_line(line: str) -> None:
            if line.startswith('{"exit"'):
                report.update(json.loads(line))

        argv = [
            *(str(REPO / ".venv/bin/python"), "-c", PARALLEL_CHILD, str(PARALLEL_CONCURRENCY)),
            *("run", "--fresh", "--root", str(REPO), "--input", str(ARXIV)),
            *("--max-papers", str(PARALLEL_PAPERS)),
            *("--state", f"{folder}/state", "--out", f"{folder}/site"),
        ]
        wall, _, code = run_cli(argv, env, Path(folder), on_line)
        return {**report, "exit": code, "wall_s": wall, "calls": fake.calls}


def parallel() -> None:
    sys.path.insert(0, str(REPO))
    print(
        f"## Parallel delivery: {PARALLEL_PAPERS} papers, concurrency {PARALLEL_CONCURRENCY}, "
        f"fake LLM answering after each delay\n"
    )
    headers = ["delay s", "result", "LLM calls", "papers s", "ideal s", "papers / ideal"]
    headers += ["drain s", "drain / ideal", "whole run s"]
    rows = []
    for delay in PARALLEL_DELAYS_S:
        run = llm_run(delay)
        ideal = PARALLEL_PAPERS / PARALLEL_CONCURRENCY * delay
        row = [delay, "ok" if run["exit"] == 0 else f"exit {run['exit']:.0f}", run["calls"]]
        row += [f"{run['papers_s']:.1f}", f"{ideal:.1f}"]
        row += [f"{run['papers_s'] / ideal:.2f}" if ideal else "-", f"{run['drain_s']:.1f}"]
        row += [f"{run['drain_s'] / ideal:.2f}" if ideal else "-", f"{run['wall_s']:.1f}"]
        rows.append(row)
    table(headers, rows)
    print(
        "Ideal = papers / concurrency x delay. Papers: from the first batch handed out to "
        "the first category batch (every paper settled). Drain: to the digest published "
        "(the category syntheses, one more call each, and publish). Delay 0 is the local "
        "stack's own cost.\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="sizes,cold,local,parallel")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--papers", default=",".join(map(str, RUN_SIZES)))
    args = parser.parse_args()
    parts = set(args.only.split(","))

    started = time.perf_counter()
    machine()
    functions = lambdasim.built_functions()
    if "sizes" in parts:
        sizes(functions)
    if "cold" in parts:
        cold_starts(functions, args.repeats)
    if "local" in parts:
        local_runs(tuple(int(n) for n in args.papers.split(",")))
    if "parallel" in parts:
        parallel()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"bench took {time.perf_counter() - started:.0f} s (bench process {own:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
