"""SES v2 templates on the local SES: created, read, deleted, and rendered on send.

moto has no SES v2 templates; the local SES keeps them and renders ``{{field}}`` data, so a
template send through SenderFunction reaches the mailbox rendered, and data that does not
render is a Rendering Failure event, as SES publishes it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Cli

if TYPE_CHECKING:
    from mypy_boto3_sesv2.type_defs import EmailTemplateContentTypeDef

WELCOME: EmailTemplateContentTypeDef = {
    "Subject": "Welcome, {{name}}",
    "Text": "Hi {{name}}, your plan is {{plan.tier}}. Leave: {{unsubscribe_url}}",
    "Html": "<p>Hi {{name}}</p><p>{{{banner}}}</p>",
}


def test_a_template_is_created_read_listed_and_deleted(aws: str) -> None:
    ses = boto3.client("sesv2")
    ses.create_email_template(TemplateName="welcome", TemplateContent=WELCOME)
    assert ses.get_email_template(TemplateName="welcome")["TemplateContent"] == WELCOME
    assert [t["TemplateName"] for t in ses.list_email_templates()["TemplatesMetadata"]] == ["welcome"]
    with pytest.raises(ClientError) as twice:
        ses.create_email_template(TemplateName="welcome", TemplateContent=WELCOME)
    assert twice.value.response["Error"]["Code"] == "AlreadyExistsException"
    ses.delete_email_template(TemplateName="welcome")
    with pytest.raises(ClientError) as gone:
        ses.get_email_template(TemplateName="welcome")
    assert gone.value.response["Error"]["Code"] == "NotFoundException"


def _send(cli: Cli, tmp_path: Path, to: str, data: dict[str, Any]) -> dict[str, Any]:
    event = tmp_path / "template-send.json"
    request = {
        "from": "news@example.com",
        "to": [to],
        "stream": "newsletter",
        "template": {"name": "welcome", "data": data},
    }
    event.write_text(json.dumps(request))
    answer: dict[str, Any] = json.loads(
        cli.run("local", "invoke", "SenderFunction", "--event", str(event)).stdout
    )
    return answer


def test_a_template_send_through_the_sender_reaches_the_mailbox_rendered(cli: Cli, tmp_path: Path) -> None:
    # Given: the local stack and a template created on it
    cli.run("local", "bootstrap")
    boto3.client("sesv2").create_email_template(TemplateName="welcome", TemplateContent=WELCOME)
    # When: SenderFunction sends with it on a bulk stream
    data = {"name": "Ann <3", "plan": {"tier": "gold"}, "banner": "<b>new</b>"}
    answer = _send(cli, tmp_path, "success@simulator.amazonses.com", data)
    assert answer["status"] == "sent", answer
    # Then: the mailbox holds the rendered message: escaped in HTML but for {{{ }}}, with the link
    (message,) = json.loads(cli.run("local", "mailbox", "--json").stdout)
    assert message["subject"] == "Welcome, Ann <3"
    assert message["text"].startswith("Hi Ann <3, your plan is gold. Leave: http://127.0.0.1:")
    assert "/unsubscribe/" in message["text"]
    assert message["html"] == "<p>Hi Ann &lt;3</p><p><b>new</b></p>"
    assert message["headers"]["List-Unsubscribe"].startswith("<http://127.0.0.1:")
    assert message["template"]["name"] == "welcome"


def test_data_that_does_not_render_is_a_rendering_failure_and_reaches_nobody(
    cli: Cli, tmp_path: Path
) -> None:
    # Given: the template, and a queue that hears the stack's feedback topic
    topic = json.loads(cli.run("local", "bootstrap").stdout)["FeedbackTopic"]
    boto3.client("sesv2").create_email_template(TemplateName="welcome", TemplateContent=WELCOME)
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="hears-feedback")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    # When: the data has no plan
    answer = _send(cli, tmp_path, "success@simulator.amazonses.com", {"name": "Ann"})
    # Then: SES accepted the call, nobody got the mail, and a Rendering Failure says why
    assert answer["status"] == "sent", answer
    assert json.loads(cli.run("local", "mailbox", "--json").stdout) == []
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60  # a cap: the local SES publishes after it answered
    while len(events) < 2 and time.monotonic() < deadline:
        for received in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []):
            events.append(json.loads(json.loads(received["Body"])["Message"]))
    assert [e["eventType"] for e in events] == ["Send", "Rendering Failure"]
    assert events[1]["failure"] == {
        "templateName": "welcome",
        "errorMessage": "Attribute 'plan.tier' is not present in the rendering data.",
    }
