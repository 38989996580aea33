"""SQS's query-protocol wire names, which its current (AWS JSON) botocore model dropped.

Taken from the query-era model (botocore before SQS moved to AWS JSON in 2023, as AWS CLI
2.9 ships it); see :mod:`lamina.gateway.awsquery` for the key format.
"""

from __future__ import annotations

from collections.abc import Mapping

QUERY_NAMES: Mapping[str, str] = {
    # structure members
    "CreateQueueRequest.Attributes": "Attribute",
    "CreateQueueRequest.tags": "Tag",
    "SetQueueAttributesRequest.Attributes": "Attribute",
    "GetQueueAttributesResult.Attributes": "Attribute",
    "ListQueueTagsResult.Tags": "Tag",
    "Message.Attributes": "Attribute",
    "Message.MessageAttributes": "MessageAttribute",
    "MessageAttributeValue.StringListValues": "StringListValue",
    "MessageAttributeValue.BinaryListValues": "BinaryListValue",
    "MessageSystemAttributeValue.StringListValues": "StringListValue",
    "MessageSystemAttributeValue.BinaryListValues": "BinaryListValue",
    "SendMessageRequest.MessageAttributes": "MessageAttribute",
    "SendMessageRequest.MessageSystemAttributes": "MessageSystemAttribute",
    "SendMessageBatchRequestEntry.MessageAttributes": "MessageAttribute",
    "SendMessageBatchRequestEntry.MessageSystemAttributes": "MessageSystemAttribute",
    # shapes' own names
    "MessageSystemAttributeMap": "Attribute",
    "QueueAttributeMap": "Attribute",
    "TagMap": "Tag",
    # list elements
    "AWSAccountIdList.member": "AWSAccountId",
    "ActionNameList.member": "ActionName",
    "AttributeNameList.member": "AttributeName",
    "MessageSystemAttributeList.member": "MessageSystemAttributeName",
    "BatchResultErrorEntryList.member": "BatchResultErrorEntry",
    "BinaryList.member": "BinaryListValue",
    "StringList.member": "StringListValue",
    "ChangeMessageVisibilityBatchRequestEntryList.member": (
        "ChangeMessageVisibilityBatchRequestEntry"
    ),
    "ChangeMessageVisibilityBatchResultEntryList.member": "ChangeMessageVisibilityBatchResultEntry",
    "DeleteMessageBatchRequestEntryList.member": "DeleteMessageBatchRequestEntry",
    "DeleteMessageBatchResultEntryList.member": "DeleteMessageBatchResultEntry",
    "SendMessageBatchRequestEntryList.member": "SendMessageBatchRequestEntry",
    "SendMessageBatchResultEntryList.member": "SendMessageBatchResultEntry",
    "MessageAttributeNameList.member": "MessageAttributeName",
    "MessageList.member": "Message",
    "QueueUrlList.member": "QueueUrl",
    "TagKeyList.member": "TagKey",
    # map entries
    "MessageBodyAttributeMap.key": "Name",
    "MessageBodyAttributeMap.value": "Value",
    "MessageBodySystemAttributeMap.key": "Name",
    "MessageBodySystemAttributeMap.value": "Value",
    "MessageSystemAttributeMap.key": "Name",
    "MessageSystemAttributeMap.value": "Value",
    "QueueAttributeMap.key": "Name",
    "QueueAttributeMap.value": "Value",
    "TagMap.key": "Key",
    "TagMap.value": "Value",
}
