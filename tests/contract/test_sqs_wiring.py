"""The queue service answers on `lamina serve`'s own port, beside the Lambda API."""

from __future__ import annotations

from tests.support.server import LiveServer


def test_queue_round_trip_on_the_main_server(server: LiveServer) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="wiring-check")["QueueUrl"]
    assert url == f"{server.url}/000000000000/wiring-check"
    sqs.send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageSystemAttributes={
            "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}
        },
    )
    messages = sqs.receive_message(
        QueueUrl=url, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert messages[0]["Body"] == "hello"
    assert messages[0]["Attributes"]["AWSTraceHeader"] == "Root=1-abc"
    assert "sqs" in server.health()["services"]
