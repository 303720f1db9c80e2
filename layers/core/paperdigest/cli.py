"""``paperdigest``: run the pipeline on this machine against a local stack on moto."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from paperdigest.errors import DigestError

DEFAULT_OUT = Path("site")
DEFAULT_STATE = Path(".paperdigest")


def _date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from exc


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
    run.add_argument("--date", type=_date, help="the digest's date (default: from the input)")
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the site is copied")
    run.add_argument("--language", choices=["ko", "en"], help="language of the digest")
    run.add_argument("--max-papers", type=int, help="papers selected (default 15)")
    _stack_options(run)

    status = commands.add_parser("status", help="print a run's counts")
    status.add_argument("--date", type=_date, help="the run's date (default: the latest)")
    _stack_options(status)

    serve = commands.add_parser("serve", help="serve the locally published site on 127.0.0.1")
    serve.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the site folder")
    serve.add_argument("--port", type=int, default=8000, help="the port (0: any free port)")
    return parser


def _stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state", type=Path, default=DEFAULT_STATE, help="where the local stack's data is kept"
    )
    parser.add_argument("--fresh", action="store_true", help="start from an empty local stack")
    parser.add_argument("--root", type=Path, help="the project folder (default: found upwards)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args, sys.stdout, sys.stderr)
        if args.command == "serve":
            from paperdigest.local.serve import serve

            serve(args.out, args.port)
            return 0
        return cmd_status(args, sys.stdout)
    except DigestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def cmd_run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Ingest, summarize and publish once; print the Markdown digest's path last."""
    from tqdm import tqdm

    from paperdigest.local.session import local_session
    from paperdigest.storage import Store

    documents = [_read_input(path) for path in args.input]
    if args.max_papers is not None and args.max_papers < 1:
        raise DigestError("--max-papers must be at least 1")
    args.state.mkdir(parents=True, exist_ok=True)
    log_path = args.state / "logs" / f"run-{time.strftime('%Y%m%dT%H%M%S')}.jsonl"
    log_path.parent.mkdir(parents=True, exist_ok=True)

    # Language and paper count are stack parameters, as with `sam deploy`.
    parameters = {}
    if args.language:
        parameters["DigestLanguage"] = args.language
    if args.max_papers:
        parameters["MaxPapers"] = str(args.max_papers)
    for variable, parameter in (
        ("OPENAI_BASE_URL", "OpenAIBaseUrl"),
        ("OPENAI_MODEL", "OpenAIModel"),
    ):
        if os.environ.get(variable):
            parameters[parameter] = os.environ[variable]
    with (
        log_path.open("w", encoding="utf-8") as log,
        local_session(
            args.state, fresh=args.fresh, root=args.root, log_stream=log, parameters=parameters
        ) as session,
    ):
        keys = _upload_inputs(session, documents)
        detail: dict[str, Any] = {"inputs": keys}
        if args.date:
            detail["date"] = args.date
        result = session.runner.ingest(detail)
        _delete_inputs(session, keys)
        for error in result.get("errors", []):
            print(f"warning: {error}", file=err)
        if result["status"] == "quiet":
            print(f"quiet day: {result['reason']}; nothing published", file=out)
            return 0

        date, selected = result["date"], len(result["selected"])
        print(f"{date}: {selected} papers selected of {result['candidates']}", file=err)
        store = Store()
        with tqdm(total=selected, desc="summarizing", unit="paper", file=err) as bar:

            def progress() -> None:
                run = store.get_run(date)
                settled = len(run.settled_ids or ()) if run else 0
                bar.update(settled - bar.n)

            session.runner.drain(on_batch=progress)
            progress()

        run = store.get_run(date)
        if run is None or not run.digest_key:
            raise DigestError(f"the run of {date} published no digest; see {log_path}")
        for failed in sorted(run.failed_ids or ()):
            print(f"warning: paper {failed} could not be summarized", file=err)
        session.export_site(args.out)
        digest = args.out / run.digest_key
    print(digest, file=out)
    return 0


def cmd_status(args: argparse.Namespace, out: IO[str]) -> int:
    """Print the counts of one run."""
    from paperdigest.local.session import local_session
    from paperdigest.storage import Store

    with local_session(args.state, root=args.root, save=False) as session:
        del session
        store = Store()
        run = store.get_run(args.date) if args.date else store.latest_run()
        if run is None:
            raise DigestError("no run recorded" + (f" for {args.date}" if args.date else ""))
        papers = store.papers(run.date)
        in_flight = sum(1 for p in papers if p.status == "in_progress")
        rows = {
            "date": run.date,
            "status": run.status,
            "selected": len(run.paper_ids),
            "done": sum(1 for p in papers if p.status == "done"),
            "failed": len(run.failed_ids or ()),
            "in flight": in_flight,
            "categories": len(run.categories),
        }
        for key, value in rows.items():
            print(f"{key:>12}: {value}", file=out)
    return 0


def _read_input(path: Path) -> tuple[str, bytes]:
    try:
        return path.name, path.read_bytes()
    except OSError as exc:
        raise DigestError(f"cannot read input {path}: {exc.strerror}") from exc


def _upload_inputs(session: Any, documents: list[tuple[str, bytes]]) -> list[str]:
    from paperdigest.aws import client
    from paperdigest.local.stack import REGION

    s3 = client("s3", REGION)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    keys = []
    for index, (name, data) in enumerate(documents):
        key = f"inputs/{stamp}/{index:02d}-{name}"
        s3.put_object(Bucket=session.bucket, Key=key, Body=data)
        keys.append(key)
    return keys


def _delete_inputs(session: Any, keys: list[str]) -> None:
    from paperdigest.aws import client
    from paperdigest.local.stack import REGION

    s3 = client("s3", REGION)
    for key in keys:
        s3.delete_object(Bucket=session.bucket, Key=key)


if __name__ == "__main__":
    sys.exit(main())
