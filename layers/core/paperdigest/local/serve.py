"""Serve the locally published site on 127.0.0.1, with the content types S3 serves it with."""

from __future__ import annotations

import functools
import os
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

from paperdigest.errors import ConfigError

HOST = "127.0.0.1"
DEFAULT_PORT = 8000

# The same types the publisher writes to S3 (paperdigest.render.site).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/atom+xml; charset=utf-8",
    ".png": "image/png",
}


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files with the site's content types; no caching, quiet unless asked."""

    log_stream: IO[str] | None = None

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return CONTENT_TYPES.get(Path(path).suffix.lower()) or super().guess_type(path)

    def end_headers(self) -> None:
        # NOTE: a local preview must show a re-run at once, unlike the published site.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        if self.log_stream is not None:
            print(f"{self.address_string()} {format % args}", file=self.log_stream)


def make_server(
    out: Path, port: int = DEFAULT_PORT, log_stream: IO[str] | None = None
) -> ThreadingHTTPServer:
    """Return a server of ``out`` bound to 127.0.0.1:``port`` (0 picks a free port).

    Raises ``ConfigError`` when ``out`` is not a folder or the port cannot be bound.
    """
    if not out.is_dir():
        raise ConfigError(f"no site at {out}; run `paperdigest run` first")
    handler = type("BoundSiteHandler", (SiteHandler,), {"log_stream": log_stream})
    factory = functools.partial(handler, directory=str(out.resolve()))
    try:
        return ThreadingHTTPServer((HOST, port), factory)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from exc


def site_url(server: ThreadingHTTPServer) -> str:
    """Return the root URL of a running server."""
    return f"http://{HOST}:{server.server_address[1]}/"


def serve(out: Path, port: int = DEFAULT_PORT, stream: IO[str] = sys.stdout) -> None:
    """Serve ``out`` until Ctrl-C; print the URL first and each request after."""
    server = make_server(out, port, log_stream=stream)
    print(f"serving {out} at {site_url(server)} (Ctrl-C stops)", file=stream, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=stream)
    finally:
        server.server_close()
