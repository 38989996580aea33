"""CloudWatch errors: the query code is the wire code; the model's shape names the JSON/CBOR
``__type`` (CloudWatch is ``awsQueryCompatible``, so both are sent)."""

from __future__ import annotations

from lamina.errors import AwsError


class CloudWatchError(AwsError):
    status = 400
    message_key = "message"
    json_namespace = "com.amazonaws.cloudwatch"


class InvalidParameterValue(CloudWatchError):
    code = "InvalidParameterValue"
    shape_name = "InvalidParameterValueException"


class InvalidParameterCombination(CloudWatchError):
    code = "InvalidParameterCombination"
    shape_name = "InvalidParameterCombinationException"


class MissingParameter(CloudWatchError):
    code = "MissingParameter"
    shape_name = "MissingRequiredParameterException"


class InvalidAction(CloudWatchError):
    code = "InvalidAction"
    shape_name = "InvalidAction"


class InternalServiceError(CloudWatchError):
    code = "InternalServiceError"
    shape_name = "InternalServiceFault"
    status = 500
