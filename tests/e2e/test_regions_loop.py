"""One suppression list for two sending regions, on `local up --regions us-east-1,eu-west-1`.

`local up` runs as a user starts it (a process of its own, on its own moto server): us-east-1 is
the home (the suppression table, a global table; the feedback queue), eu-west-1 a replica
region (its SES publishes to its own topic, which delivers to the home queue; it reads its
replica of the table, which the emulator's replication keeps one lag behind the home's).

The tests wait for replication by polling, with a deadline that only ends a test that would
otherwise hang: what they assert is each region's state, never how long it took.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from ses_feedback.edges.store import SuppressionStore
from ses_feedback.model.reasons import Reason
from ses_feedback_emulator.motoserver import LOOPBACK, bind_problem, free_port
from ses_feedback_stack.names import LOCAL_ACCOUNT_ID

from tests.e2e.conftest import Cli
from tests.e2e.test_local_mode import start_local_up, user_env
from tests.support import dns_zones as z
from tests.support import ses_events as b
from tests.support.dns_server import DnsServer

HOME, REPLICA = "us-east-1", "eu-west-1"
LAG_SECONDS = 1.0
PREFIX = f"rg{uuid.uuid4().hex[:8]}"
# Generous: a loaded machine drains and replicates slowly; a passing run waits about the lag.
DEADLINE_SECONDS = 60.0


def free_port_pair() -> int:
    """A free port whose next port is free too: the two regions' REST APIs."""
    while True:
        port = free_port()
        if port < 65535 and bind_problem(LOOPBACK, port + 1) is None:
            return port


def until(what: str, holds: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not holds():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.2)


class Regions:
    """A shell on the running `local up`: each command in the region it names."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.cli = Cli(env={**user_env(), "AWS_ENDPOINT_URL": endpoint})

    def run(self, region: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cli.run("--prefix", PREFIX, "--region", region, *args)

    def table(self, region: str) -> SuppressionStore:
        """The suppression table as that region's sender reads it: the home table at home, the
        replica in a replica region (the CLI's `suppressions get` reads the home's everywhere)."""
        client = boto3.client("dynamodb", endpoint_url=self.endpoint, region_name=region)
        return SuppressionStore(f"{PREFIX}-SuppressionTable", client=client)

    def suppressed(self, region: str, address: str) -> bool:
        return self.table(region).get_state(address).is_suppressed(datetime.now(UTC))

    def history(self, region: str, address: str) -> list[tuple[str, str]]:
        _, entries = self.table(region).get_with_history(address)
        return [(entry.event_type, entry.action) for entry in entries]

    def send(self, region: str, to: str) -> dict[str, Any]:
        message = ("--from", "app@example.com", "--to", to, "--subject", "Hi", "--text", "Hello")
        answer: dict[str, Any] = json.loads(self.run(region, "send", *message, "--json").stdout)
        return answer

    def feedback_queue_empty(self) -> bool:
        sqs = boto3.client("sqs", endpoint_url=self.endpoint, region_name=HOME)
        url = sqs.get_queue_url(QueueName=f"{PREFIX}-FeedbackQueue")["QueueUrl"]
        counts = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return all(value == "0" for value in counts.values())


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regions]:
    log = tmp_path_factory.mktemp("regions") / "local-up.log"
    port, api_port = free_port(), free_port_pair()
    extra = ("--regions", f"{HOME},{REPLICA}", "--replication-lag", str(LAG_SECONDS))
    up = start_local_up(log, port, api_port, prefix=PREFIX, extra=extra)
    try:
        text = log.read_text()
        # The banner names both regions and their REST APIs, the home on --api-port.
        assert f"REST API http://127.0.0.1:{api_port} ({HOME})" in text
        assert f"REST API http://127.0.0.1:{api_port + 1} ({REPLICA})" in text
        yield Regions(f"http://127.0.0.1:{port}")
    finally:
        up.send_signal(signal.SIGINT)
        try:
            assert up.wait(timeout=60) == 0, Path(log).read_text()[-3000:]
        finally:
            up.kill()


def address(kind: str = "bounce") -> str:
    return f"{kind}+{uuid.uuid4().hex[:10]}@simulator.amazonses.com"


def test_a_hard_bounce_of_mail_sent_from_the_replica_region_suppresses_everywhere(regions: Regions) -> None:
    # Given: mail from eu-west-1 to the mailbox simulator's bounce address
    bounced = address()
    sent = regions.send(REPLICA, bounced)
    assert sent["sent_to"] == [bounced]
    # When: eu-west-1's SES publishes the bounce to its topic, which delivers to the home queue
    until("the home region suppresses it", lambda: regions.suppressed(HOME, bounced))
    # Then: the home region refuses to send to it
    assert regions.table(HOME).get_state(bounced).reason == Reason.HARD_BOUNCE
    home_send = regions.send(HOME, bounced)
    assert home_send["sent_to"] == []
    assert [s["address"] for s in home_send["suppressed"]] == [bounced]
    # And: once the lag has passed, eu-west-1's replica has it, and eu-west-1 refuses too
    until("the replica region has it", lambda: regions.suppressed(REPLICA, bounced))
    replica_send = regions.send(REPLICA, bounced)
    assert replica_send["sent_to"] == []
    assert [s["address"] for s in replica_send["suppressed"]] == [bounced]
    # And: stats in the replica region reads the one list, at home
    stats = json.loads(regions.run(REPLICA, "stats", "--json").stdout)
    assert stats["suppressed_now"]["hard_bounce"] >= 1


@pytest.mark.parametrize(("added_in", "lifted_in"), [(HOME, REPLICA), (REPLICA, HOME)])
def test_a_lift_from_either_region_lifts_it_in_both(regions: Regions, added_in: str, lifted_in: str) -> None:
    # Given: an address suppressed by hand (from one region: the write goes home), in both regions
    target = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    regions.run(added_in, "suppressions", "add", target, "--note", "test")
    until(
        "both regions have it",
        lambda: regions.suppressed(HOME, target) and regions.suppressed(REPLICA, target),
    )
    # When: lifted from the other region
    regions.run(lifted_in, "suppressions", "remove", target, "--note", "lifted")
    # Then: lifted at home, and in the replica once the lag has passed: both regions send to it
    until("lifted at home", lambda: not regions.suppressed(HOME, target))
    until("lifted in the replica region", lambda: not regions.suppressed(REPLICA, target))
    for region in (HOME, REPLICA):
        assert regions.send(region, target)["sent_to"] == [target]


def test_a_notification_published_in_both_regions_is_applied_once(regions: Regions) -> None:
    # Given: one SES notification (one feedbackId) published to each region's feedback topic,
    # as a misconfiguration or a retry across regions would deliver it twice
    bounced = address()
    notification = json.dumps(b.bounce([bounced]))
    for region in (HOME, REPLICA):
        boto3.client("sns", endpoint_url=regions.endpoint, region_name=region).publish(
            TopicArn=f"arn:aws:sns:{region}:{LOCAL_ACCOUNT_ID}:{PREFIX}-FeedbackTopic", Message=notification
        )
    # When: both reach the home queue and are drained
    until("suppressed at home", lambda: regions.suppressed(HOME, bounced))
    until("both deliveries drained", regions.feedback_queue_empty)
    # Then: one history entry, at home and (after the lag) in the replica
    assert regions.history(HOME, bounced) == [("Bounce", "suppress")]
    until("the replica region has it", lambda: regions.suppressed(REPLICA, bounced))
    assert regions.history(REPLICA, bounced) == [("Bounce", "suppress")]


def test_only_the_home_region_drains_feedback(regions: Regions) -> None:
    # The replica region has no feedback queue or FeedbackFunction: it says where its feedback goes.
    result = regions.cli.run("--prefix", PREFIX, "--region", REPLICA, "local", "drain", check=False)
    assert result.returncode == 1
    assert (
        f"{REPLICA} drains no feedback: its topic delivers to the home region's queue ({HOME})"
        in result.stderr
    )


def test_a_replica_regions_dead_letters_are_redriven_to_the_home_queue_and_applied(regions: Regions) -> None:
    # Given: a bounce that eu-west-1's topic could not deliver to the home queue, in eu-west-1's
    # own dead-letter queue (SNS keeps a subscription's DLQ in its region), in its SNS envelope
    bounced = address()
    envelope = b.sns_envelope(b.bounce([bounced]))
    envelope["TopicArn"] = f"arn:aws:sns:{REPLICA}:{LOCAL_ACCOUNT_ID}:{PREFIX}-FeedbackTopic"
    sqs = boto3.client("sqs", endpoint_url=regions.endpoint, region_name=REPLICA)
    dlq = sqs.get_queue_url(QueueName=f"{PREFIX}-FeedbackDeadLetterQueue")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(envelope))
    # When: looked at, then redriven, from the replica region
    looked = json.loads(regions.run(REPLICA, "redrive", "--dry-run", "--json").stdout)
    refused = regions.cli.run(
        "--prefix", PREFIX, "--region", REPLICA, "redrive", "--method", "move-task", check=False
    )
    moved = json.loads(regions.run(REPLICA, "redrive", "--json").stdout)
    # Then: the look showed it and moved nothing, the move task was refused (it stays in one
    # region), the loop moved it to the home queue, where it is applied once
    assert (looked["dead_letter_queue_depth"], looked["messages"][0]["event_type"]) == (1, "Bounce")
    assert refused.returncode == 2 and "moves within one region" in refused.stderr
    assert moved == {
        "method": "loop",
        "dead_letter_queue_depth_before": 1,
        "moved": 1,
        "regions": {"dead_letter_queue": REPLICA, "feedback_queue": HOME},
    }
    until("the home region applies it", lambda: regions.suppressed(HOME, bounced))
    until("drained", regions.feedback_queue_empty)
    assert regions.history(HOME, bounced) == [("Bounce", "suppress")]
    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"


@pytest.mark.parametrize("asked_in", [HOME, REPLICA])
def test_stats_all_regions_reads_the_regions_local_up_recorded(regions: Regions, asked_in: str) -> None:
    # Given: the running `local up --regions us-east-1,eu-west-1` (no --stack-name, no --regions)
    # When: stats over every region, asked in either region
    stats = json.loads(regions.run(asked_in, "stats", "--all-regions", "--json").stdout)
    # Then: both regions, the home first, each with its own reputation and alarms
    assert list(stats["regions"]) == [HOME, REPLICA]
    assert all(set(part) == {"reputation", "alarms"} for part in stats["regions"].values())


def test_doctor_all_regions_checks_the_regions_local_up_recorded(
    regions: Regions, dns_server: DnsServer
) -> None:
    # Given: the running two-region `local up`, and DNS set up for the home region alone
    dns_server.zones.set(z.zones(z.correct_records(region=HOME)))
    # When: the DNS checks in every region, asked in the replica region without --regions
    result = regions.cli.run(
        "--prefix",
        PREFIX,
        "--region",
        REPLICA,
        "doctor",
        z.DOMAIN,
        "--all-regions",
        "--dns-only",
        "--nameserver",
        dns_server.address,
        "--json",
        check=False,
    )
    # Then: both regions were checked, the home first
    assert list(json.loads(result.stdout)["regions"]) == [HOME, REPLICA]


def test_all_regions_without_a_recorded_local_stack_is_refused(regions: Regions) -> None:
    # Given: a --prefix that no `local up` on this endpoint serves
    # When: stats and doctor over every region, without --stack-name or --regions
    stats = regions.cli.run("--prefix", "nothere", "stats", "--all-regions", check=False)
    doctor = regions.cli.run(
        "--prefix", "nothere", "doctor", z.DOMAIN, "--all-regions", "--dns-only", check=False
    )
    # Then: both refuse (exit 2), naming what to give
    for result, whose in ((stats, "read"), (doctor, "check")):
        assert result.returncode == 2, result.stderr
        assert (
            f"--all-regions: give --stack-name (the deployed stack whose regions to {whose}) or --regions "
            "(no running `local up` recorded a stack --prefix nothere on AWS_ENDPOINT_URL)"
        ) in result.stderr
