"""`paperdigest serve`: the local site on 127.0.0.1 with the types S3 gives each object."""

from __future__ import annotations

import io
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperdigest.errors import ConfigError
from paperdigest.local.serve import make_server, serve, site_url

FILES = {
    "index.html": ("<!DOCTYPE html><title>archive</title>", "text/html; charset=utf-8"),
    "index.md": ("# archive", "text/markdown; charset=utf-8"),
    "feed.xml": ("<feed/>", "application/atom+xml; charset=utf-8"),
    "archive.json": ("{}", "application/json; charset=utf-8"),
    "digests/2024-09-24/paper_2024-09-24.png": ("\x89PNG", "image/png"),
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    for key, (body, _) in FILES.items():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(body.encode("latin-1"))
    server = make_server(tmp_path, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site_url(server)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.mark.parametrize("key", sorted(FILES))
def test_each_object_is_served_with_its_type(served: str, key: str) -> None:
    with urllib.request.urlopen(served + key, timeout=5) as response:
        assert response.headers["Content-Type"] == FILES[key][1]
        assert response.read() == FILES[key][0].encode("latin-1")


def test_the_root_serves_the_archive_page(served: str) -> None:
    assert served.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(served, timeout=5) as response:
        assert b"<title>archive</title>" in response.read()


def test_a_missing_page_is_not_found(served: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(served + "digests/1999-01-01/index.html", timeout=5)
    assert caught.value.code == 404


def test_no_site_yet_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="paperdigest run"):
        make_server(tmp_path / "site", port=0)


def test_serve_prints_the_url_and_stops_on_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a server whose loop is interrupted as Ctrl-C would
    def interrupted(self: object, poll_interval: float = 0.5) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("http.server.ThreadingHTTPServer.serve_forever", interrupted)
    stream = io.StringIO()

    # When it serves
    serve(tmp_path, port=0, stream=stream)

    # Then it printed where and stopped cleanly
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith(f"serving {tmp_path} at http://127.0.0.1:")
    assert lines[-1] == "stopped"
