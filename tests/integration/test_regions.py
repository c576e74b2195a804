"""Several regions in-process (docs/deploy.md, "Several regions"): a home stack in us-east-1 and
a replica-region stack in eu-west-1 on one moto, which keeps regions apart as AWS does.

moto does not replicate a global table: the replica region's table is created here with the same
name, and a test that needs an item "replicated" writes it there itself. Secrets Manager's
replication is moto's own (``ReplicateSecretToRegions``). SES's account-level list calls are
stubbed per region (moto has neither ListSuppressedDestinations nor DeleteSuppressedDestination).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from ses_feedback import wiring
from ses_feedback.edges.ses_account import SesAccountSuppressionLists
from ses_feedback.edges.store import SuppressionStore
from ses_feedback.parsing.send_request import SendRequest
from ses_feedback_emulator.bootstrap import bootstrap
from ses_feedback_emulator.lambdas import LocalContext, load_handler
from ses_feedback_stack.names import LOCAL_PARAMETERS, LocalStack
from ses_feedback_stack.template import REPO_ROOT

from tests.support import usecases as uc
from tests.support.api_events import rest_event
from tests.support.sender_calls import record_sender_calls

HOME, HERE = "us-east-1", "eu-west-1"
ADDRESS = "jane@example.org"


@dataclass
class Regions:
    home: LocalStack
    replica: LocalStack
    table: str
    monkeypatch: pytest.MonkeyPatch

    def store(self, region: str) -> SuppressionStore:
        return SuppressionStore(self.table, region=region)

    def in_region(self, region: str) -> None:
        """Lambda in ``region``: its variables as the stack of that region gives them."""
        self.monkeypatch.setenv("AWS_REGION", region)
        self.monkeypatch.setenv("AWS_DEFAULT_REGION", region)
        stack = self.home if region == HOME else self.replica
        for name, value in stack.function_environment("SuppressionsApiFunction").items():
            self.monkeypatch.setenv(name, value)
        wiring.reset()


@pytest.fixture
def regions(empty_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Regions]:
    # Given: the home stack, with eu-west-1 as its replica region ...
    monkeypatch.setenv("AWS_REGION", HOME)
    monkeypatch.setenv("AWS_DEFAULT_REGION", HOME)
    home = LocalStack(prefix="it", parameters={**LOCAL_PARAMETERS, "ReplicaRegions": HERE})
    refs = bootstrap(home)
    secrets = boto3.client("secretsmanager", region_name=HOME)
    secret_arn = secrets.describe_secret(SecretId=refs["StreamsSecret"])["ARN"]
    # ... and the eu-west-1 stack, given the home's outputs (its bootstrap also makes the table's
    # replica here: a table of the same name)
    monkeypatch.setenv("AWS_REGION", HERE)
    monkeypatch.setenv("AWS_DEFAULT_REGION", HERE)
    replica = LocalStack(
        prefix="it",
        parameters={
            **LOCAL_PARAMETERS,
            "HomeRegion": HOME,
            "ReplicaRegions": HERE,
            "HomeSuppressionTableName": refs["SuppressionTable"],
            "HomeFeedbackQueueArn": home.resolver().attributes[("FeedbackQueue", "Arn")],
            "HomeStreamsSecretArn": secret_arn,
        },
    )
    # Local mode's bootstrap makes one region's stack (buckets are global, and the replica
    # form's resources are B's emulator's to pick): here, what these tests use in eu-west-1.
    used_here = {
        "SuppressionTable",
        "MessageTable",
        "EventBus",
        "ConfigurationSet",
        "SendingIdentity",
        "IdempotencyTable",
    }
    template = {**replica.template}
    template["Resources"] = {k: v for k, v in replica.template["Resources"].items() if k in used_here}
    bootstrap(LocalStack(prefix="it", parameters=replica.parameters, template=template))
    # The secret's replica, as the home stack's ReplicaRegions makes it: same name, same keys.
    secrets.replicate_secret_to_regions(
        SecretId=secret_arn, AddReplicaRegions=[{"Region": HERE}], ForceOverwriteReplicaSecret=True
    )
    yield Regions(home, replica, refs["SuppressionTable"], monkeypatch)
    wiring.reset()


def call_api(regions: Regions, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    handler = load_handler(regions.replica, "SuppressionsApiFunction")
    response = handler(rest_event(method, path, body=body), LocalContext("SuppressionsApiFunction"))
    assert response["statusCode"] < 300, response["body"]
    answer: dict[str, Any] = json.loads(response["body"])
    return answer


def send(to: str) -> dict[str, Any]:
    request = SendRequest.model_validate(
        {"from": "news@example.com", "to": [to], "subject": "Hi", "text": "Hi"}
    )
    return wiring.sender().send(request, "it-app").model_dump(mode="json")


# ---- writers write home ---------------------------------------------------------------------------


def test_an_operator_suppression_in_a_replica_region_is_written_to_the_home_table(regions: Regions) -> None:
    # Given: the replica region's functions
    regions.in_region(HERE)
    # When: an operator suppresses an address through the replica region's API
    answer = call_api(regions, "PUT", f"/suppressions/{ADDRESS}", {"note": "asked by phone"})
    # Then: the home table has it (one writer), the replica has it only once DynamoDB replicates
    assert answer["suppression"]["reason"] == "manual"
    assert regions.store(HOME).get_state(ADDRESS).reason is not None
    assert regions.store(HERE).get_state(ADDRESS).reason is None


def test_an_erasure_in_a_replica_region_leaves_its_tombstone_at_home_and_rewrites_the_local_timeline(
    regions: Regions,
) -> None:
    # Given: a message to jane sent from the replica region (its timeline is kept there)
    regions.in_region(HERE)
    assert send(ADDRESS)["status"] == "sent"
    timeline = boto3.client("dynamodb", region_name=HERE)
    message_table = regions.replica.name("MessageTable")
    assert ADDRESS in json.dumps(timeline.scan(TableName=message_table)["Items"])
    # When: it is erased through the replica region's API
    call_api(regions, "POST", f"/suppressions/{ADDRESS}/erasure", {"note": "GDPR request 42"})
    # Then: the home table keeps only the tombstone, keyed with the secret both regions share
    home_state = regions.store(HOME)
    home_state.tombstone_of = wiring.store().tombstone_of
    assert home_state.get_state(ADDRESS).erased
    # and the local timeline no longer holds the address in clear
    assert ADDRESS not in json.dumps(timeline.scan(TableName=message_table)["Items"])


def test_an_unsubscribe_link_made_at_home_works_in_a_replica_region_and_writes_home(regions: Regions) -> None:
    # Given: a link signed in the home region (its secret's replica signs alike)
    regions.in_region(HOME)
    token = wiring.key_ring().issue(ADDRESS, "newsletter")
    # When: the recipient follows it on the replica region's API
    regions.in_region(HERE)
    handler = load_handler(regions.replica, "UnsubscribeFunction")
    event = json.loads((REPO_ROOT / "events" / "unsubscribe" / "post_one_click.json").read_text())
    event["path"], event["pathParameters"] = f"/unsubscribe/{token}", {"token": token}
    response = handler(event, LocalContext("UnsubscribeFunction"))
    # Then: it is accepted, and the unsubscribe is in the home table
    assert response["statusCode"] == 200, response["body"]
    (entry,) = regions.store(HOME).get_state(ADDRESS).scoped
    assert (entry.scope, entry.reason.value) == ("newsletter", "unsubscribed")


# ---- readers read here --------------------------------------------------------------------------


def test_the_sender_in_a_replica_region_reads_its_own_replica(regions: Regions) -> None:
    # Given: one address suppressed and replicated here, another suppressed at home and not yet here
    uc.admin(regions.store(HOME)).suppress("late@example.org", "bounced at home", "ops")
    for store in (regions.store(HOME), regions.store(HERE)):
        uc.admin(store).suppress("known@example.org", "bounced", "ops")
    regions.in_region(HERE)
    # Then: the replica region refuses what its replica holds ...
    assert send("known@example.org")["status"] == "suppressed"
    # ... and, within the replication lag, still mails what only the home table holds yet
    assert send("late@example.org")["status"] == "sent"


def test_in_the_home_region_the_writers_and_the_sender_share_one_store(regions: Regions) -> None:
    regions.in_region(HOME)
    assert wiring.local_store() is wiring.store()
    regions.in_region(HERE)
    assert wiring.local_store() is not wiring.store()
    assert wiring.store().client.meta.region_name == HOME
    assert wiring.local_store().client.meta.region_name == HERE


# ---- SES's account-level list, in every region ----------------------------------------------------

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def stubbed(lists: SesAccountSuppressionLists) -> dict[str | None, Stubber]:
    return {ses.region: Stubber(ses.client) for ses in lists.lists}


def test_the_sync_imports_the_list_of_each_region_of_the_deployment(regions: Regions) -> None:
    # Given: the home region's sync, with SES listing an address only in the replica region
    regions.in_region(HOME)
    lists = wiring.ses_account_list()
    assert [ses.region for ses in lists.lists] == [HOME, HERE]
    stubs = stubbed(lists)
    stubs[HOME].add_response("list_suppressed_destinations", {"SuppressedDestinationSummaries": []})
    summary = {"EmailAddress": ADDRESS, "Reason": "BOUNCE", "LastUpdateTime": NOW}
    stubs[HERE].add_response("list_suppressed_destinations", {"SuppressedDestinationSummaries": [summary]})
    # When
    with stubs[HOME], stubs[HERE]:
        imported = wiring.bulk_import().sync_from_ses(lists)
    # Then: it is on the one list, at home
    assert imported.imported == 1
    assert regions.store(HOME).get_state(ADDRESS).reason is not None


def test_a_lift_in_a_replica_region_lifts_ses_list_in_every_region(regions: Regions) -> None:
    # Given: jane suppressed at home, on SES's list in both regions, and the sync on
    uc.admin(regions.store(HOME)).suppress(ADDRESS, "bounced", "ops")
    regions.in_region(HERE)
    regions.monkeypatch.setenv("SYNC_SES_ACCOUNT_SUPPRESSION_LIST", "true")
    wiring.reset()
    admin = wiring.admin()
    assert admin.ses is not None
    stubs = stubbed(wiring.ses_account_list())
    for region in (HOME, HERE):
        stubs[region].add_response("delete_suppressed_destination", {}, {"EmailAddress": ADDRESS})
    # When
    with stubs[HOME], stubs[HERE]:
        outcome = admin.lift(ADDRESS, "confirmed by phone", "ops")
        # Then: SES was asked in both regions, and the home table has the lift
        stubs[HOME].assert_no_pending_responses()
        stubs[HERE].assert_no_pending_responses()
    assert outcome.changed and outcome.ses_removed
    assert regions.store(HOME).get_state(ADDRESS).reason is None


def test_the_senderfunction_of_a_replica_region_as_deployed_reads_its_replica_and_sends_from_its_region(
    regions: Regions,
) -> None:
    # Given: eu-west-1's SenderFunction as the replica stack deploys it, with the sending guard on,
    # and a suppression that has reached the replica
    for store in (regions.store(HOME), regions.store(HERE)):
        uc.admin(store).suppress("known@example.org", "bounced", "ops")
    regions.in_region(HERE)
    regions.monkeypatch.setenv("SENDING_GUARD", "true")
    handler = load_handler(regions.replica, "SenderFunction", overrides={"SENDING_GUARD": "true"})
    sends, gets = record_sender_calls()

    def invoke(**request: Any) -> dict[str, Any]:
        base = {"from": "noreply@example.com", "to": ["b@example.org"], "subject": "Hello", "text": "Hi"}
        answer: dict[str, Any] = handler({**base, **request}, LocalContext("SenderFunction"))
        return answer

    # When: a send SES throttles is retried with its idempotency key ...
    stubber = Stubber(wiring.sender().ses.client)
    stubber.add_client_error(
        "send_email", service_error_code="TooManyRequestsException", http_status_code=429
    )
    with stubber:
        assert invoke(idempotency_key="k-1")["error"]["code"] == "throttled"
    assert invoke(idempotency_key="k-1")["status"] == "sent"
    # ... a templated message, a newsletter with its unsubscribe link, and one to a suppressed address
    with Stubber(wiring.sender().ses.client) as ses:
        ses.add_response("send_email", {"MessageId": "templated-1"})
        assert invoke(subject=None, text=None, template={"name": "welcome", "data": {}})["status"] == "sent"
    newsletter = invoke(stream="newsletter", text="News. Unsubscribe: {{unsubscribe_url}}")
    assert newsletter["status"] == "sent"
    assert invoke(to=["known@example.org"])["status"] == "suppressed"
    # Then: every suppression check read the table in eu-west-1, and SES there was asked
    assert {table for g in gets for table in g["RequestItems"]} == {regions.table}
    assert wiring.sender().store.client.meta.region_name == HERE
    assert wiring.sender().ses.client.meta.region_name == HERE
    assert len(sends) == 4  # the throttled one, the retry, the template, the newsletter
