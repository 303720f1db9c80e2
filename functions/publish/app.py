"""Lambda handler: render and publish the digest that a DigestReady event names."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from paperdigest.observe import metrics
from paperdigest.stages import run_publish
from paperdigest.tracing import traced

logger = Logger()


@traced
@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_publish(event)
