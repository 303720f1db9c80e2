"""Lambda handler: the scheduled ingest of the day's papers."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from paperdigest.observe import metrics
from paperdigest.stages import IngestRequest, run_ingest
from paperdigest.tracing import traced

logger = Logger()


@traced
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = IngestRequest.from_event(event)
    return run_ingest(request)
