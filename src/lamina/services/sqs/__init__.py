"""An embedded, durable SQS-compatible queue service (AWS JSON 1.0 and query protocols)."""

from lamina.services.sqs.models import ReceivedMessage
from lamina.services.sqs.service import SqsService, build_sqs_service

__all__ = ["ReceivedMessage", "SqsService", "build_sqs_service"]
