"""DynamoDB: the only module that knows the batch table's layout.

One partition per batch:

==========  ======================================  ==============================================
item        key (pk / sk)                           what it holds
==========  ======================================  ==============================================
batch       ``BATCH#<id>`` / ``META``               app, state, content, total, refused, accepted,
                                                    one counter per outcome, times; ``closed``:
                                                    set once, by the call that ended a cancelled
                                                    batch (and published its batch.done)
recipient   ``BATCH#<id>`` / ``R#<index, 6 digits>`` written *before* SES is called (``claimed``),
                                                    then its outcome; never written twice
failure     ``BATCH#<id>`` / ``F#<index, 6 digits>`` to, code, message: what GET lists as failures
==========  ======================================  ==============================================

Why this makes a restarted worker mail nobody twice: a recipient is claimed by a conditional
Put (the record must not exist), so of two workers (or a redelivered message) only one gets
to call SES; the outcome and the batch's counter change in one ``TransactWriteItems``,
conditional on the claim still being there, so a counter is bumped once per recipient. A
claim with no outcome is a worker that stopped while SES had the message: it is settled as
failed (``interrupted``), never sent again. Every item expires with ``ttl``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ses_feedback.model.batches import BatchState, Outcome, RecipientFailure
from ses_feedback.model.moments import iso_z

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_META = "META"
# GET /batches/{id} lists at most this many failures (the counts stay exact beyond it).
MAX_LISTED_FAILURES = 1000
# Recipients withdrawn in one transaction: two items each and the batch's count (DynamoDB takes 100).
_WITHDRAW_GROUP = 25


@dataclass(frozen=True)
class BatchRecord:
    batch_id: str
    app: str
    state: BatchState
    content: dict[str, Any]
    total: int
    refused: int
    accepted: int
    created_at: str
    counts: dict[Outcome, int] = field(default_factory=dict)
    finished_at: str | None = None
    waiting_until: str | None = None
    unsubscribe_base_url: str | None = None  # where the batch came in (bulk links), if known

    @property
    def settled(self) -> int:
        return sum(self.counts.values())

    @property
    def complete(self) -> bool:
        return self.settled >= self.accepted


@dataclass(frozen=True)
class Claim:
    """What claiming a recipient found: ``won`` (call SES now) or the record already there."""

    won: bool
    status: str | None = None  # the existing record's status: 'claimed' or an Outcome


def _pk(batch_id: str) -> dict[str, str]:
    return {"S": f"BATCH#{batch_id}"}


def _recipient_key(batch_id: str, index: int, kind: str = "R") -> dict[str, Any]:
    return {"pk": _pk(batch_id), "sk": {"S": f"{kind}#{index:06d}"}}


def _meta_key(batch_id: str) -> dict[str, Any]:
    return {"pk": _pk(batch_id), "sk": {"S": _META}}


class BatchStore:
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self.client: DynamoDBClient = client or boto3.client(
            "dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 8})
        )

    # ---- the batch -------------------------------------------------------------------------

    def create(self, record: BatchRecord, expires_at: datetime) -> None:
        item: dict[str, Any] = {
            **_meta_key(record.batch_id),
            "app": {"S": record.app},
            "state": {"S": record.state.value},
            "content": {"S": _json(record.content)},
            "total": {"N": str(record.total)},
            "refused": {"N": str(record.refused)},
            "accepted": {"N": str(record.accepted)},
            "created_at": {"S": record.created_at},
            "ttl": {"N": str(int(expires_at.timestamp()))},
            **{outcome.value: {"N": "0"} for outcome in Outcome},
        }
        if record.unsubscribe_base_url:
            item["unsubscribe_base_url"] = {"S": record.unsubscribe_base_url}
        self.client.put_item(
            TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(pk)"
        )

    def get(self, batch_id: str) -> BatchRecord | None:
        item = self.client.get_item(
            TableName=self.table_name, Key=_meta_key(batch_id), ConsistentRead=True
        ).get("Item")
        return _record(batch_id, item) if item else None

    def set_state(
        self,
        batch_id: str,
        state: BatchState,
        only_from: tuple[BatchState, ...],
        moment: datetime | None = None,
    ) -> bool:
        """Move the batch to ``state`` if it is in one of ``only_from``; False if it was not.

        ``moment``: finished_at for a final state, waiting_until for waiting_quota.
        """
        names = {"#state": "state"}
        values: dict[str, Any] = {":state": {"S": state.value}}
        assignments = ["#state = :state"]
        if moment is not None:
            values[":moment"] = {"S": iso_z(moment)}
            assignments.append(("finished_at" if state.final else "waiting_until") + " = :moment")
        allowed = []
        for i, source in enumerate(only_from):
            values[f":from{i}"] = {"S": source.value}
            allowed.append(f":from{i}")
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_meta_key(batch_id),
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression=f"attribute_exists(pk) AND #state IN ({', '.join(allowed)})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def close_cancelled(self, batch_id: str) -> bool:
        """Mark a cancelled batch whose every recipient is settled as closed; False if it was
        already (another call closed it: only one call announces its end) or is not cancelled."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_meta_key(batch_id),
                UpdateExpression="SET closed = :yes",
                ConditionExpression="#state = :cancelled AND attribute_not_exists(closed)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":yes": {"BOOL": True},
                    ":cancelled": {"S": BatchState.CANCELLED.value},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def failures(self, batch_id: str) -> list[RecipientFailure]:
        """The recipients that failed, in request order (at most ``MAX_LISTED_FAILURES``)."""
        found: list[RecipientFailure] = []
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :failure)",
            "ExpressionAttributeValues": {":pk": _pk(batch_id), ":failure": {"S": "F#"}},
            "ConsistentRead": True,
        }
        while len(found) < MAX_LISTED_FAILURES:
            page = self.client.query(**arguments)
            found += [
                RecipientFailure(to=i["to"]["S"], code=i["code"]["S"], message=i["message"]["S"])
                for i in page.get("Items", [])
            ]
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found[:MAX_LISTED_FAILURES]

    # ---- one recipient: claim before SES, settle after --------------------------------------

    def claim(self, batch_id: str, index: int, expires_at: datetime) -> Claim:
        """Write the recipient's record before SES is called; only one caller ever wins it."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    **_recipient_key(batch_id, index),
                    "status": {"S": "claimed"},
                    "ttl": {"N": str(int(expires_at.timestamp()))},
                },
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            existing: dict[str, Any] = dict(exc.response.get("Item") or {})  # type: ignore[call-overload]
            if not existing:  # an SDK or emulator that does not return it: read it
                existing = dict(
                    self.client.get_item(
                        TableName=self.table_name, Key=_recipient_key(batch_id, index), ConsistentRead=True
                    ).get("Item", {})
                )
            return Claim(won=False, status=existing.get("status", {}).get("S", "claimed"))
        return Claim(won=True)

    def release(self, batch_id: str, index: int) -> None:
        """Give a claim back (SES did not take the message: throttled): it will be claimed again."""
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key=_recipient_key(batch_id, index),
                ConditionExpression="#status = :claimed",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":claimed": {"S": "claimed"}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def settle(
        self,
        batch_id: str,
        index: int,
        outcome: Outcome,
        expires_at: datetime,
        *,
        failure: RecipientFailure | None = None,
        message_id: str | None = None,
    ) -> bool:
        """The claimed recipient's outcome and the batch's counter, in one transaction; False if
        it was settled already (its claim is gone)."""
        values: dict[str, Any] = {":claimed": {"S": "claimed"}, ":outcome": {"S": outcome.value}}
        update = "SET #status = :outcome"
        if message_id is not None:
            values[":message_id"] = {"S": message_id}
            update += ", message_id = :message_id"
        record = {
            "Update": {
                "TableName": self.table_name,
                "Key": _recipient_key(batch_id, index),
                "UpdateExpression": update,
                "ConditionExpression": "#status = :claimed",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values,
            }
        }
        items: list[Any] = [record, self._count(batch_id, outcome, 1)]
        if failure is not None:
            items.append(self._failure(batch_id, index, failure, expires_at))
        return self._transact(items)

    def withdraw(
        self, batch_id: str, failures: Sequence[tuple[int, RecipientFailure]], expires_at: datetime
    ) -> list[int]:
        """Settle recipients that never reached the queue as failed, each with its failure, without a
        claim (they were never sent); the indexes settled.

        In transactions of ``_WITHDRAW_GROUP`` with the batch's count. A recipient already recorded
        (the queue had taken its chunk after all, and a worker got to it first) is the worker's: its
        group is written again one recipient at a time, and that one is left out.
        """
        settled: list[int] = []
        for start in range(0, len(failures), _WITHDRAW_GROUP):
            group = failures[start : start + _WITHDRAW_GROUP]
            if self._withdraw(batch_id, group, expires_at):
                settled += [index for index, _ in group]
            else:
                settled += [one[0] for one in group if self._withdraw(batch_id, [one], expires_at)]
        return settled

    def _withdraw(
        self, batch_id: str, group: Sequence[tuple[int, RecipientFailure]], expires_at: datetime
    ) -> bool:
        ttl = {"N": str(int(expires_at.timestamp()))}
        items: list[Any] = [self._count(batch_id, Outcome.FAILED, len(group))]
        for index, failure in group:
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            **_recipient_key(batch_id, index),
                            "status": {"S": Outcome.FAILED.value},
                            "ttl": ttl,
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            items.append(self._failure(batch_id, index, failure, expires_at))
        return self._transact(items)

    def _transact(self, items: list[Any]) -> bool:
        """One TransactWriteItems; False if a condition failed (nothing was written)."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                return False
            raise
        return True

    def _count(self, batch_id: str, outcome: Outcome, how_many: int) -> dict[str, Any]:
        """A transaction's item: the batch's counter of ``outcome`` up by ``how_many``."""
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": _meta_key(batch_id),
                "UpdateExpression": "ADD #outcome :n",
                "ExpressionAttributeNames": {"#outcome": outcome.value},
                "ExpressionAttributeValues": {":n": {"N": str(how_many)}},
            }
        }

    def _failure(
        self, batch_id: str, index: int, failure: RecipientFailure, expires_at: datetime
    ) -> dict[str, Any]:
        """A transaction's item: the failure that GET lists."""
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": {
                    **_recipient_key(batch_id, index, "F"),
                    "to": {"S": failure.to},
                    "code": {"S": failure.code},
                    "message": {"S": failure.message},
                    "ttl": {"N": str(int(expires_at.timestamp()))},
                },
            }
        }


def _record(batch_id: str, item: dict[str, Any]) -> BatchRecord:
    return BatchRecord(
        batch_id=batch_id,
        app=item["app"]["S"],
        state=BatchState(item["state"]["S"]),
        content=json.loads(item["content"]["S"]),
        total=int(item["total"]["N"]),
        refused=int(item["refused"]["N"]),
        accepted=int(item["accepted"]["N"]),
        created_at=item["created_at"]["S"],
        counts={outcome: int(item.get(outcome.value, {}).get("N", "0")) for outcome in Outcome},
        finished_at=item.get("finished_at", {}).get("S"),
        waiting_until=item.get("waiting_until", {}).get("S"),
        unsubscribe_base_url=item.get("unsubscribe_base_url", {}).get("S"),
    )


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
