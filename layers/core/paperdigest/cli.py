"""``paperdigest``: run the pipeline on this machine against a local stack on moto."""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from paperdigest.errors import DigestError

if TYPE_CHECKING:
    from paperdigest.local.session import Session

DEFAULT_OUT = Path("site")
DEFAULT_STATE = Path(".paperdigest")
# Environment variables that a user sets for a real endpoint, and the template
# parameters they stand for (as `sam deploy --parameter-overrides` would set them).
LLM_PARAMETERS = (
    ("OPENAI_BASE_URL", "OpenAIBaseUrl"),
    ("OPENAI_MODEL", "OpenAIModel"),
    ("MAX_RUN_TOKENS", "MaxRunTokens"),
    ("RUN_DEADLINE_S", "RunDeadlineSeconds"),
)


def _date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from exc


def _digest_date(value: str) -> str:
    """A digest's date: no later than tomorrow in UTC (the first time zone's today)."""
    day = _date(value)
    if dt.date.fromisoformat(day) > dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1):
        raise argparse.ArgumentTypeError(f"a date in the future: {value}")
    return day


def _count(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a count of at least 1: {value}")
    return int(value)


def _port(value: str) -> int:
    port = int(value) if value.isdigit() else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port (0-65535): {value}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperdigest", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the pipeline once and publish a digest")
    run.add_argument(
        "--input",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="a source document (arXiv API Atom, arXiv RSS, Hugging Face daily papers "
        "JSON); repeatable. Without it the configured sources are fetched live.",
    )
    run.add_argument(
        "--date", type=_digest_date, help="the digest's date (default: from the input)"
    )
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the site is copied")
    run.add_argument("--language", choices=["ko", "en"], help="language of the digest")
    run.add_argument("--max-papers", type=_count, help="papers selected (default 15)")
    _stack_options(run)

    status = commands.add_parser("status", help="print a run's counts")
    status.add_argument("--date", type=_date, help="the run's date (default: the latest)")
    _stack_options(status, fresh=False)

    redrive = commands.add_parser(
        "redrive", help="move dead-lettered work back, re-run it and re-publish"
    )
    redrive.add_argument("--date", type=_date, help="only this run's work (default: all)")
    redrive.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the site is copied")
    _stack_options(redrive, fresh=False)

    evaluate = commands.add_parser(
        "eval", help="print the classifier's accuracy on the golden set (and the LLM's)"
    )
    evaluate.add_argument("--golden", type=Path, help="golden set (default: the reference's)")
    evaluate.add_argument("--root", type=Path, help="the project folder (default: found upwards)")

    serve = commands.add_parser("serve", help="serve the locally published site on 127.0.0.1")
    serve.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the site folder")
    serve.add_argument("--port", type=_port, default=8000, help="the port (0: any free port)")
    return parser


def _stack_options(parser: argparse.ArgumentParser, fresh: bool = True) -> None:
    parser.add_argument(
        "--state", type=Path, default=DEFAULT_STATE, help="where the local stack's data is kept"
    )
    if fresh:
        parser.add_argument("--fresh", action="store_true", help="start from an empty stack")
    parser.add_argument("--root", type=Path, help="the project folder (default: found upwards)")


class Terminated(KeyboardInterrupt):
    """SIGTERM, as from `kill` or a service manager: stopped as by Ctrl-C."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


@contextmanager
def _sigterm_stops() -> Iterator[None]:
    """While the command runs, SIGTERM stops it as Ctrl-C does, so what finished is saved."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    with _sigterm_stops():
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    try:
        if args.command == "run":
            return cmd_run(args, sys.stdout, sys.stderr)
        if args.command == "redrive":
            return cmd_redrive(args, sys.stdout, sys.stderr)
        if args.command == "eval":
            return cmd_eval(args, sys.stdout)
        if args.command == "serve":
            from paperdigest.local.serve import serve

            serve(args.out, args.port)
            return 0
        return cmd_status(args, sys.stdout)
    except DigestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        kept = ""
        if args.command in ("run", "redrive"):
            kept = (
                f"; what finished is kept in {args.state} (`paperdigest redrive` finishes "
                "the run; a new run reuses its summaries)"
            )
        terminated = isinstance(exc, Terminated)
        print(f"{'terminated' if terminated else 'interrupted'}{kept}", file=sys.stderr)
        return 143 if terminated else 130


def cmd_run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Ingest, summarize and publish once; print the Markdown digest's path last."""
    documents = [_read_input(path) for path in args.input]

    # Language and paper count are stack parameters, as with `sam deploy`.
    parameters = _llm_parameters()
    if args.language:
        parameters["DigestLanguage"] = args.language
    if args.max_papers:
        parameters["MaxPapers"] = str(args.max_papers)

    _check_folder(args.out, "--out")
    with _session(args, parameters) as (session, log_path):
        keys = _upload_inputs(session, documents)
        named = dict(zip(keys, (str(path) for path in args.input), strict=True))
        detail: dict[str, Any] = {"inputs": keys}
        if args.date:
            detail["date"] = args.date
        session.runner.warm_up()
        if not args.input:
            print("fetching the papers of the live sources ...", file=err)
        try:
            result = session.runner.ingest(detail)
        except DigestError as exc:
            raise DigestError(_user_names(str(exc), named)) from exc
        finally:
            _delete_inputs(session, keys)
        for error in result.get("errors", []):
            print(f"warning: source failed: {_user_names(error, named)}", file=err)
        if result.get("replaced") is not None:
            replaced = f"{result['date']} ({_papers(result['replaced'])})"
            if result.get("replaced_digest"):
                print(f"warning: replacing the digest of {replaced} with this run's", file=err)
            else:
                print(
                    f"warning: the unfinished run of {replaced} starts again with this "
                    "run's selection; finished summaries are reused",
                    file=err,
                )
        if result.get("mixed_days"):
            days = ", ".join(
                f"{named.get(key, key)}: {day}" for key, day in sorted(result["mixed_days"].items())
            )
            print(
                f"warning: the inputs announce different days ({days}); the digest is dated "
                f"{result['date']} (--date chooses another)",
                file=err,
            )
        for skipped in result.get("skipped", []):
            print(f"warning: entry skipped: {_user_names(skipped, named)}", file=err)
        if result["status"] == "quiet":
            print(f"quiet day: {result['reason']}; nothing published", file=out)
            return 0

        date = result["date"]
        print(f"{date}: {_papers(len(result['selected']))} selected", file=err)
        _drain_with_progress(session, date, len(result["selected"]), err)
        _sweep_if_overdue(session, date, err)
        digest = _published(session, date, args.out, log_path, err)
    print(digest, file=out)
    return 0


def cmd_redrive(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Move the DLQ's work back, re-run it and re-publish; print the digest paths."""
    from paperdigest.pipeline.redrive import redrive
    from paperdigest.storage import Store

    _check_folder(args.out, "--out")
    with _session(args, _llm_parameters()) as (session, log_path):
        queues = session.stack.queues
        redriven = redrive(
            Store(), queues["PapersDLQ"], queues["PapersQueue"], session.region, args.date
        )
        # Work an interrupted run left in the queue is finished too.
        waiting = Store().unpublished_runs() if _queued(session) else []
        unfinished = [run.date for run in waiting if not args.date or run.date == args.date]
        if not redriven.moved and not unfinished:
            print("nothing to redrive: no dead-lettered or unfinished work", file=err)
            return 0
        dates = sorted(set(redriven.papers) | set(redriven.categories) | set(unfinished))
        if redriven.moved:
            noun = "message" if redriven.moved == 1 else "messages"
            print(f"redriving {redriven.moved} {noun} of {', '.join(dates)}", file=err)
        if unfinished:
            print(f"finishing the unfinished run of {', '.join(unfinished)}", file=err)
        for date in dates:
            # This command holds the state: leases in it were held by a command that ended.
            Store().release_all(date)
        session.runner.drain()
        digests = [_published(session, date, args.out, log_path, err) for date in dates]
    for digest in digests:
        print(digest, file=out)
    return 0


def cmd_eval(args: argparse.Namespace, out: IO[str]) -> int:
    """Print the rule-based classifier's accuracy, and the LLM's when one is configured."""
    from paperdigest.classify import classify
    from paperdigest.evaluate import evaluate, load_golden
    from paperdigest.local.session import find_root
    from paperdigest.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    path = args.golden or find_root(args.root) / "infra" / "golden" / "papers-2024-09-24.json"
    golden = load_golden(path, taxonomy)
    # The rule-based result is printed first: an LLM that fails cannot take it away.
    _print_accuracy(evaluate("rule-based", golden, lambda p: classify(p, taxonomy)[0]), out)
    if os.environ.get("OPENAI_API_KEY"):
        _print_accuracy(_evaluate_llm(golden, taxonomy), out)
    return 0


def _print_accuracy(result: Any, out: IO[str]) -> None:
    for arxiv_id, expected, got in result.rows:
        mark = "ok" if expected == got else "MISS"
        print(f"{result.name:>12}  {arxiv_id:<12} {expected:<11} {got:<11} {mark}", file=out)
    usage = f", {result.usage.total_tokens} tokens" if result.usage.calls else ""
    score = f"{result.correct}/{len(result.rows)} = {result.accuracy:.0%}"
    print(f"{result.name} accuracy: {score}{usage}", file=out, flush=True)


def _evaluate_llm(golden: list[Any], taxonomy: Any) -> Any:
    from pydantic import ValidationError

    from paperdigest.engines import make_engine
    from paperdigest.evaluate import evaluate
    from paperdigest.settings import SummarizeSettings, describe

    try:
        settings = SummarizeSettings(table_name="-", bucket_name="-")  # storage is not used
    except ValidationError as exc:
        raise DigestError("invalid setting: " + "; ".join(describe(exc))) from exc
    engine = make_engine(settings)
    records = {}

    def classify_with_llm(paper: Any) -> str:
        records[paper.arxiv_id] = engine.summarize_paper(paper, taxonomy, None)
        return str(records[paper.arxiv_id].category)

    result = evaluate(engine.engine, golden, classify_with_llm)
    for record in records.values():
        result.usage.add(record.usage)
    return result


def cmd_status(args: argparse.Namespace, out: IO[str]) -> int:
    """Print the counts of one run."""
    from paperdigest.storage import Store

    with _session(args, {}, save=False) as _:
        store = Store()
        run = store.get_run(args.date) if args.date else store.latest_run()
        if run is None:
            raise DigestError("no run recorded" + (f" for {args.date}" if args.date else ""))
        papers = store.papers(run.date)
        rows = {
            "date": run.date,
            "status": run.status,
            "selected": len(run.paper_ids),
            "done": sum(1 for p in papers if p.status == "done"),
            "failed": len(run.failed_ids or ()),
            "in flight": sum(1 for p in papers if p.status in ("pending", "in_progress")),
            "categories": len(run.categories),
            "LLM calls": int(run.llm_calls or 0),
            "tokens": f"{int(run.prompt_tokens or 0)} in, {int(run.completion_tokens or 0)} out",
            "cost": f"${float(run.cost_usd or 0):.4f} (estimated)",
        }
        for key, value in rows.items():
            print(f"{key:>12}: {value}", file=out)
    return 0


@contextmanager
def _exclusive(state: Path) -> Iterator[None]:
    """Hold the state folder for this command; another command on it is refused."""
    with (state / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise DigestError(f"another paperdigest command is using {state}") from exc
        yield


def _llm_parameters() -> dict[str, str]:
    return {name: os.environ[var] for var, name in LLM_PARAMETERS if os.environ.get(var)}


@contextmanager
def _session(
    args: argparse.Namespace, parameters: dict[str, str], save: bool = True
) -> Iterator[tuple[Session, Path]]:
    """A local session whose handler logs go to a file under the state folder."""
    from paperdigest.local.session import local_session
    from paperdigest.local.stack import STATE_FILE

    if args.command in ("status", "redrive") and not (args.state / STATE_FILE).is_file():
        # A mistyped --state would otherwise start an empty stack and report nothing.
        raise DigestError(
            f"--state {args.state} holds no local stack ({STATE_FILE} is missing); "
            "`paperdigest run` makes one"
        )
    _check_folder(args.state, "--state")
    logs = args.state / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{args.command}-{time.strftime('%Y%m%dT%H%M%S')}.jsonl"
    with (
        _exclusive(args.state),
        # Append mode, a line per write: the consumer processes append to this file too.
        log_path.open("a", encoding="utf-8", buffering=1) as log,
        local_session(
            args.state,
            fresh=getattr(args, "fresh", False),
            root=args.root,
            log_stream=log,
            parameters=parameters,
            save=save,
        ) as session,
    ):
        if args.command in ("run", "redrive"):
            _check_settings()
        yield session, log_path


def _check_settings() -> None:
    """Fail before any work when the functions' environment holds an invalid setting."""
    from paperdigest.settings import environment_problems

    problems = environment_problems()
    if problems:
        raise DigestError("invalid setting: " + "; ".join(problems))


def _user_names(text: str, named: dict[str, str]) -> str:
    """Name inputs by the paths the user gave, not by their copies in the bucket."""
    for key, path in named.items():
        text = text.replace(key, path)
    return text


def _check_folder(path: Path, option: str) -> None:
    """Create the folder an option names, before any work; raise when it cannot be written."""
    if path.exists() and not path.is_dir():
        raise DigestError(f"{option} {path} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DigestError(f"{option} {path}: cannot create the folder: {exc.strerror}") from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise DigestError(f"{option} {path}: the folder is not writable")


def _drain_with_progress(session: Session, date: str, selected: int, err: IO[str]) -> None:
    from tqdm import tqdm

    from paperdigest.storage import DONE, FAILED, Store

    store = Store()
    run = store.get_run(date)
    deadline = float(run.deadline_at) - time.time() if run and run.deadline_at else 3600.0
    started = time.monotonic()
    # A bar for a terminal; a log or a pipe gets one line at the end instead.
    live = err.isatty()
    with tqdm(total=selected, desc="summarizing", unit="paper", file=err, disable=not live) as bar:

        def progress() -> None:
            bar.update(store.settled_count(date) - bar.n)

        session.runner.drain(on_batch=progress, deadline_s=max(deadline, 1.0))
        progress()
    if not live:
        statuses = [item.status for item in store.papers(date)]
        done, failed = statuses.count(DONE), statuses.count(FAILED)
        took = time.monotonic() - started
        failures = f", {failed} failed" if failed else ""
        print(
            f"{date}: {done} of {_papers(selected)} summarized{failures} in {took:.1f} s",
            file=err,
        )


def _sweep_if_overdue(session: Session, date: str, err: IO[str]) -> None:
    """When the drain stopped at the run's deadline, fire the sweep that AWS would fire."""
    from paperdigest.storage import Store

    run = Store().get_run(date)
    if run is None or run.ready_at is not None or run.deadline_at is None:
        return
    print("warning: the run's deadline passed; publishing what has settled", file=err)
    fired = dt.datetime.fromtimestamp(float(run.deadline_at), dt.UTC)
    session.runner.sweep(max(fired, dt.datetime.now(dt.UTC)))


def _published(session: Session, date: str, out: Path, log_path: Path, err: IO[str]) -> Path:
    """Copy the site out and return the digest's path; raise when none was published."""
    from paperdigest.storage import FAILED, Store

    store = Store()
    run = store.get_run(date)
    failures: dict[str, list[str]] = {}
    for item in store.papers(date) if run else []:
        if item.status == FAILED:
            failures.setdefault(item.error or "unknown error", []).append(item.arxiv_id)
    failed = sum(len(ids) for ids in failures.values())
    if run is not None and not run.digest_key and failed == len(run.paper_ids) > 0:
        reasons = "; ".join(sorted(failures))
        raise DigestError(
            f"none of the {failed} papers of {date} could be summarized ({reasons}); "
            "nothing was published. Once the cause is fixed, `paperdigest redrive` "
            f"tries them again; logs: {log_path}"
        )
    if run is None or not run.digest_key:
        raise DigestError(f"the run of {date} published no digest; see {log_path}")
    for reason, ids in sorted(failures.items()):
        print(
            f"warning: {_papers(len(ids))} could not be summarized ({reason}): "
            f"{', '.join(sorted(ids))}; `paperdigest redrive` tries again",
            file=err,
        )
    try:
        session.export_site(out)
    except OSError as exc:
        raise DigestError(
            f"the digest of {date} is published in the local stack but could not be "
            f"written to {exc.filename or out}: {exc.strerror}; once --out can be written, "
            "the same run again reuses every summary"
        ) from exc
    return out / run.digest_key


def _queued(session: Session) -> int:
    """Messages waiting in the work queue."""
    from paperdigest.aws import client

    attributes = client("sqs", session.region).get_queue_attributes(
        QueueUrl=session.stack.queues["PapersQueue"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def _papers(count: int) -> str:
    return f"{count} paper" if count == 1 else f"{count} papers"


def _read_input(path: Path) -> tuple[str, bytes]:
    try:
        return path.name, path.read_bytes()
    except OSError as exc:
        raise DigestError(f"cannot read input {path}: {exc.strerror}") from exc


def _upload_inputs(session: Session, documents: list[tuple[str, bytes]]) -> list[str]:
    from paperdigest.aws import client

    s3 = client("s3", session.region)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    keys = []
    for index, (name, data) in enumerate(documents):
        key = f"inputs/{stamp}/{index:02d}-{name}"
        s3.put_object(Bucket=session.bucket, Key=key, Body=data)
        keys.append(key)
    return keys


def _delete_inputs(session: Session, keys: list[str]) -> None:
    from paperdigest.aws import client

    s3 = client("s3", session.region)
    for key in keys:
        s3.delete_object(Bucket=session.bucket, Key=key)


if __name__ == "__main__":
    sys.exit(main())
