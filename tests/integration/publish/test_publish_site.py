"""Publishing to S3 on moto: keys, headers, the archive, the feed, idempotent bytes."""

from __future__ import annotations

import json

import boto3
import feedparser
import pytest
from s3_site import REGION, Site, seed_run

from paperdigest.errors import PublishError
from paperdigest.pipeline.publish import publish
from paperdigest.storage import Store
from paperdigest.taxonomy import load_taxonomy

PREFIX = "digests/"
DATES = ("2024-09-23", "2024-09-24", "2024-09-25")
SHORT = "public, max-age=300"
DATED = "public, max-age=86400"
HEADERS = {
    "paper_{date}.png": ("image/png", DATED),
    "index.md": ("text/markdown; charset=utf-8", DATED),
    "index.html": ("text/html; charset=utf-8", DATED),
    "digest.json": ("application/json; charset=utf-8", DATED),
}
ROOT_HEADERS = {
    "trend.png": ("image/png", SHORT),
    "latest.md": ("text/markdown; charset=utf-8", SHORT),
    "latest.html": ("text/html; charset=utf-8", SHORT),
    "index.md": ("text/markdown; charset=utf-8", SHORT),
    "index.html": ("text/html; charset=utf-8", SHORT),
    "feed.xml": ("application/atom+xml; charset=utf-8", SHORT),
    "archive.json": ("application/json; charset=utf-8", SHORT),
}


def run_publish(site: Site, date: str) -> list[str]:
    objects = publish(Store(), load_taxonomy(), site.bucket, REGION, date, PREFIX)
    return [obj.key for obj in objects]


def snapshot(site: Site) -> dict[str, tuple[bytes, str, str]]:
    """Every object of the bucket with its body and the headers S3 stored."""
    s3 = boto3.client("s3", region_name=REGION)
    found = {}
    for entry in s3.list_objects_v2(Bucket=site.bucket).get("Contents", []):
        got = s3.get_object(Bucket=site.bucket, Key=entry["Key"])
        found[entry["Key"]] = (got["Body"].read(), got["ContentType"], got.get("CacheControl", ""))
    return found


@pytest.fixture(scope="module")
def three_days(site: Site) -> dict[str, list[str]]:
    """Three runs published out of order: the newest date is not the last one published."""
    seed_run("2024-09-23", 5)
    seed_run("2024-09-24", 14, failed=2)
    seed_run("2024-09-25", 8, language="en")
    return {date: run_publish(site, date) for date in ("2024-09-23", "2024-09-25", "2024-09-24")}


def test_every_object_carries_its_type_and_cache_policy(
    site: Site, three_days: dict[str, list[str]]
) -> None:
    objects = snapshot(site)

    expected = {
        f"{PREFIX}{date}/{name.format(date=date)}": headers
        for date in DATES
        for name, headers in HEADERS.items()
    }
    expected.update(ROOT_HEADERS)
    assert {key: (ctype, cache) for key, (_, ctype, cache) in objects.items()} == expected


def test_dated_objects_are_written_before_the_pointers(three_days: dict[str, list[str]]) -> None:
    keys = three_days["2024-09-24"]
    dated = [i for i, key in enumerate(keys) if key.startswith(PREFIX)]
    assert dated == list(range(4))
    assert keys[3].endswith("/digest.json") and keys[-1] == "archive.json"


def test_archive_lists_every_digest_newest_first(
    site: Site, three_days: dict[str, list[str]]
) -> None:
    objects = snapshot(site)

    index = json.loads(objects["archive.json"][0])
    assert [d["date"] for d in index["digests"]] == list(reversed(DATES))
    assert [d["papers"] for d in index["digests"]] == [8, 14, 5]
    markdown = objects["index.md"][0].decode("utf-8")
    positions = [markdown.index(f"]({PREFIX}{date}/index.md)") for date in reversed(DATES)]
    assert positions == sorted(positions)
    page = objects["index.html"][0].decode("utf-8")
    positions = [page.index(f'href="{PREFIX}{date}/index.html"') for date in reversed(DATES)]
    assert positions == sorted(positions)
    assert '<img src="trend.png"' in page


def test_latest_is_the_newest_date_even_when_an_older_one_was_published_last(
    site: Site, three_days: dict[str, list[str]]
) -> None:
    objects = snapshot(site)

    latest = objects["latest.html"][0].decode("utf-8")
    assert '<html lang="en">' in latest
    assert 'src="digests/2024-09-25/paper_2024-09-25.png"' in latest
    dated = objects[f"{PREFIX}2024-09-25/index.md"][0].decode("utf-8")
    assert objects["latest.md"][0].decode("utf-8") == dated.replace(
        "](paper_2024-09-25.png)", "](digests/2024-09-25/paper_2024-09-25.png)"
    )


def test_feed_has_one_entry_per_date_newest_first(
    site: Site, three_days: dict[str, list[str]]
) -> None:
    feed = feedparser.parse(snapshot(site)["feed.xml"][0])

    assert not feed.bozo, feed.get("bozo_exception")
    assert [e.link for e in feed.entries] == [f"{PREFIX}{d}/index.html" for d in reversed(DATES)]
    assert feed.feed.updated == "2024-09-25T00:00:00Z"


def test_publishing_a_date_again_writes_the_same_bytes(
    site: Site, three_days: dict[str, list[str]]
) -> None:
    # Given the bucket after three publishes
    before = snapshot(site)

    # When an older date and the newest are published again
    run_publish(site, "2024-09-23")
    run_publish(site, "2024-09-25")

    # Then every object is byte for byte the same, headers included
    assert snapshot(site) == before


def test_a_lost_or_broken_index_is_rebuilt_from_the_dated_folders(
    site: Site, three_days: dict[str, list[str]]
) -> None:
    # Given an index that was lost, and a folder where a publish stopped before digest.json
    before = snapshot(site)
    s3 = boto3.client("s3", region_name=REGION)
    s3.delete_object(Bucket=site.bucket, Key="archive.json")
    s3.put_object(Bucket=site.bucket, Key=f"{PREFIX}2024-09-20/index.md", Body=b"# half")

    # When a date is published again
    run_publish(site, "2024-09-24")

    # Then the archive is whole again and the unfinished date is not in it
    s3.delete_object(Bucket=site.bucket, Key=f"{PREFIX}2024-09-20/index.md")
    assert snapshot(site) == before

    # And a corrupt index heals the same way
    s3.put_object(Bucket=site.bucket, Key="archive.json", Body=b"{not json")
    run_publish(site, "2024-09-24")
    assert snapshot(site)["archive.json"] == before["archive.json"]


def test_the_run_records_where_its_digest_is(site: Site, three_days: dict[str, list[str]]) -> None:
    run = Store().get_run("2024-09-24")
    assert run is not None
    assert run.status == "published"
    assert run.digest_key == f"{PREFIX}2024-09-24/index.md"


def test_dated_json_carries_scores_statistics_and_summaries(
    site: Site, three_days: dict[str, list[str]]
) -> None:
    document = json.loads(snapshot(site)[f"{PREFIX}2024-09-24/digest.json"][0])
    assert document["stats"] == {
        "candidates": 17,
        "selected": 14,
        "summarized": 12,
        "failed": 2,
        "skipped": 0,
        "source_errors": 0,
        "sources": ["hf-daily"],
        "taxonomy_version": None,
    }
    first = document["papers"][0]
    assert first["score"] == 10.0 and first["summary"]["engine"] == "embedded"
    assert len(document["failed"]) == 2


def test_a_date_without_a_run_is_a_publish_error(
    site: Site, three_days: dict[str, list[str]]
) -> None:
    before = snapshot(site)
    with pytest.raises(PublishError):
        run_publish(site, "2024-01-01")
    assert snapshot(site) == before
