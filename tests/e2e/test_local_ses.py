"""The local SES's event publisher, against the moto server."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
from ses_feedback_emulator.ses import LocalSes

from tests.e2e.conftest import Cli
from tests.support import dns_zones as z
from tests.support.dns_server import DnsServer


def test_an_event_for_a_topic_that_is_gone_does_not_stop_later_events(aws: str) -> None:
    # Given: a topic with a queue subscribed, and the local SES's publisher
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="events")["TopicArn"]
    queue = sqs.create_queue(QueueName="events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    ses = LocalSes(app=lambda environ, start_response: [], endpoint=aws)
    # When: an event is queued for a topic a reset removed, then one for a topic that exists
    ses.outbox.put(("arn:aws:sns:us-east-1:123456789012:reset-away", {"eventType": "Send", "n": 1}))
    ses.outbox.put((topic, {"eventType": "Send", "n": 2}))
    # Then: the second one is published all the same
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60  # a cap: the publisher first builds its client, then fails once
    while not received and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []):
            received.append(json.loads(json.loads(message["Body"])["Message"]))
    assert received == [{"eventType": "Send", "n": 2}]


def test_the_local_identity_and_account_are_what_doctor_expects_of_a_deployed_stack(
    cli: Cli, dns_server: DnsServer
) -> None:
    # Given: the local stack (bootstrap verifies the domain, as docs/sending.md says) and DNS as published
    cli.run("local", "bootstrap")
    dns_server.zones.set(z.zones(z.correct_records()))
    ses = boto3.client("sesv2")
    # When
    identity = ses.get_email_identity(EmailIdentity="example.com")
    account = ses.get_account()
    doctor = cli.run("doctor", "example.com", "--json", "--nameserver", dns_server.address, check=False)
    # Then: verified, with the template's MAIL FROM, on an account that sends
    assert identity["VerifiedForSendingStatus"] is True
    assert identity["MailFromAttributes"] == {
        "MailFromDomain": "mail.example.com",
        "MailFromDomainStatus": "SUCCESS",
        "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
    }
    assert (account["ProductionAccessEnabled"], account["SendingEnabled"]) == (True, True)
    ses_checks = {c["id"]: c["status"] for c in json.loads(doctor.stdout) if c["id"].startswith("ses.")}
    assert ses_checks == {
        "ses.identity": "PASS",
        "ses.dkim": "PASS",
        "ses.mail_from": "PASS",
        "ses.configuration_set": "PASS",
        "ses.event_destination": "PASS",
        "ses.account": "PASS",
        "ses.quota": "PASS",
    }
