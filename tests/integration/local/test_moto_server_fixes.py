"""The local moto server's fixes keep moto's behaviour: transactions on moto in-process."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import moto.dynamodb.models as dynamodb_models
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType

from paperdigest.local.stack import _transact_with_item_backups

TABLE = "papers"
REGION = "us-east-1"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    # The fix patches moto's module; the test puts moto back as it found it.
    monkeypatch.setattr(dynamodb_models, "copy", dynamodb_models.copy)
    monkeypatch.setattr(
        DynamoDBBackend, "transact_write_items", DynamoDBBackend.transact_write_items
    )
    _transact_with_item_backups()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for sk in ("a", "b", "untouched"):
            client.put_item(
                TableName=TABLE, Item={"pk": {"S": "RUN"}, "sk": {"S": sk}, "n": {"N": "1"}}
            )
        yield client


def stored(sk: str) -> Any:
    """moto's own Item object for ``RUN``/``sk`` (None when absent)."""
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables[TABLE]
    return table.get_item(DynamoType({"S": "RUN"}), DynamoType({"S": sk}))


def key(sk: str) -> dict[str, Any]:
    return {"pk": {"S": "RUN"}, "sk": {"S": sk}}


def add_one(sk: str, condition: str = "attribute_exists(pk)") -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": key(sk),
            "UpdateExpression": "ADD n :one",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


def put_new(sk: str) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {**key(sk), "n": {"N": "7"}}}}


def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamodb) -> None:
    untouched = stored("untouched")

    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(
            TransactItems=[put_new("new"), add_one("a"), add_one("b", "attribute_not_exists(pk)")]
        )

    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert stored("new") is None
    assert stored("a").attrs["n"].value == "1"
    assert stored("b").attrs["n"].value == "1"
    # The table was not copied and swapped back: the item nobody wrote is the same object.
    assert stored("untouched") is untouched


def test_a_transaction_that_names_an_item_twice_is_undone(dynamodb) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=[add_one("a"), add_one("a")])

    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert stored("a").attrs["n"].value == "1"


def test_a_committed_transaction_writes_each_item_and_copies_no_table(
    dynamodb, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied: list[str] = []
    deepcopy = copy.deepcopy

    def spy(value: Any, memo: Any = None) -> Any:
        copied.append(type(value).__name__)
        return deepcopy(value, memo)

    monkeypatch.setattr(copy, "deepcopy", spy)

    dynamodb.transact_write_items(TransactItems=[put_new("new"), add_one("a"), add_one("b")])

    assert stored("new").attrs["n"].value == "7"
    assert stored("a").attrs["n"].value == "2"
    assert stored("b").attrs["n"].value == "2"
    assert "Table" not in copied
    assert copied.count("Item") >= 2  # the backups of the two items that existed
