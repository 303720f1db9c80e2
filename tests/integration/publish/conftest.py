"""Fixtures of the publish tests: moto's S3 and DynamoDB in-process, one site per module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from s3_site import REGION, Site

from paperdigest.aws import reset_clients
from paperdigest.storage import bind_table


@pytest.fixture(scope="module")
def aws_credentials() -> Iterator[None]:
    """Fake credentials and region; no custom endpoint, so moto's in-process mock answers."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        yield


@pytest.fixture(scope="module")
def site(aws_credentials: None) -> Iterator[Site]:
    """A private bucket and the digest table, created inside the mock, one per test module.

    Publishing renders two charts and moto is slow to seed, so a module publishes its
    days once; a test that changes the bucket puts it back as it found it.
    """
    reset_clients()
    with mock_aws():
        names = Site(bucket=f"site-{uuid.uuid4().hex[:12]}", table=f"t-{uuid.uuid4().hex[:12]}")
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=names.bucket)
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=names.table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        bind_table(names.table, REGION)
        yield names
    reset_clients()
