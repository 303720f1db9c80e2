"""Lambda handler: SQS batches of work messages, with partial batch responses."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from paperdigest.observe import metrics
from paperdigest.stages import handle_work, start_batch
from paperdigest.tracing import traced

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    receive_count = int(record.attributes.approximate_receive_count)
    handle_work(record.body, receive_count, lambda_context.get_remaining_time_in_millis)


@traced
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    start_batch()
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
