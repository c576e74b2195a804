"""DynamoDB: the only module that knows the message table's layout (each message's timeline).

One partition per message; every item expires with ``MessageRetentionDays`` (TTL ``ttl``):

=========  =====================================  ===============================================
item       key (pk / sk)                          what it holds
=========  =====================================  ===============================================
message    ``MSG#<message id>`` / ``MESSAGE``     app, stream, tags, sent_at, idempotency key
recipient  ``MSG#<message id>`` / ``R#<address>`` what the send did with it (sent / suppressed)
event      ``MSG#<message id>`` /                 one published event about that recipient: type,
           ``E#<address>#<event id>``             time, the type's own fields (JSON)
=========  =====================================  ===============================================

One Query reads a whole timeline. ``gsi1`` (sparse: message items with a key) finds a
message by ``IDEM#<idempotency key>`` (the reader keeps the caller's own); ``gsi2``
(recipient and event items) finds every item that holds an address, for erasure, which
rewrites each under the address's keyed hash.
The event items are also the publishers' exactly-once record: an event whose key exists was
published, so a notification applied twice publishes nothing the second time. Writes are
``BatchWriteItem`` (25 items a request) and the check one ``BatchGetItem`` (100 keys).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from ses_feedback.model.moments import iso_z
from ses_feedback.model.outbound import BusEvent
from ses_feedback.model.timeline import SENT, Timeline, TimelineEvent, TimelineRecipient, event_fields
from ses_feedback.retry import RetryPolicy
from ses_feedback.rules.timeline import status_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MESSAGE_SK = "MESSAGE"
RECIPIENT_PREFIX = "R#"
EVENT_PREFIX = "E#"
IDEMPOTENCY_INDEX = "gsi1"
ADDRESS_INDEX = "gsi2"
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25


def _pk(message_id: str) -> str:
    return f"MSG#{message_id}"


def _event_sk(address: str, event_id: str) -> str:
    return f"{EVENT_PREFIX}{address}#{event_id}"


def _idempotency_pk(key: str) -> str:
    return f"IDEM#{key}"


def _address_pk(address: str) -> str:
    return f"ADDR#{address}"


class TimelineStore:
    def __init__(
        self,
        table_name: str,
        retention: timedelta,
        client: DynamoDBClient | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.table_name = table_name
        self.retention = retention
        self.retry = retry or RetryPolicy()
        self.client: DynamoDBClient = client or boto3.client(
            "dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 5})
        )

    # ---- writes ------------------------------------------------------------------------

    def record_send(
        self,
        message_id: str,
        *,
        app: str,
        stream: str,
        tags: dict[str, str],
        sent_at: datetime,
        idempotency_key: str | None,
        recipients: dict[str, str],
    ) -> None:
        """The message and each recipient with what the send did (``sent`` or ``suppressed``)."""
        ttl = self._ttl(sent_at)
        message: dict[str, Any] = {
            "pk": {"S": _pk(message_id)},
            "sk": {"S": MESSAGE_SK},
            "app": {"S": app},
            "stream": {"S": stream},
            "tags": {"S": json.dumps(tags, sort_keys=True)},
            "sent_at": {"S": iso_z(sent_at, "milliseconds")},
            "ttl": {"N": ttl},
        }
        if idempotency_key:
            message["idempotency_key"] = {"S": idempotency_key}
            message["gsi1pk"] = {"S": _idempotency_pk(idempotency_key)}
            message["gsi1sk"] = {"S": iso_z(sent_at, "milliseconds")}
        items = [message] + [
            {
                "pk": {"S": _pk(message_id)},
                "sk": {"S": RECIPIENT_PREFIX + address},
                "address": {"S": address},
                "status": {"S": status},
                "gsi2pk": {"S": _address_pk(address)},
                "ttl": {"N": ttl},
            }
            for address, status in recipients.items()
        ]
        self._write(items)

    def append(self, events: Sequence[BusEvent], now: datetime) -> None:
        """Add published events to their messages' timelines (events without a message or an
        address have no timeline)."""
        ttl = self._ttl(now)
        self._write(
            [
                {
                    "pk": {"S": _pk(event.message_id)},
                    "sk": {"S": _event_sk(event.address, event.id)},
                    "type": {"S": event.type},
                    "at": {"S": iso_z(event.occurred_at, "milliseconds")},
                    "fields": {"S": json.dumps(event_fields(event.model_dump(mode="json")), sort_keys=True)},
                    "gsi2pk": {"S": _address_pk(event.address)},
                    "ttl": {"N": ttl},
                }
                for event in events
                if event.message_id and event.address
            ]
        )

    def published(self, events: Iterable[BusEvent]) -> set[str]:
        """The ids of those events already on a timeline (published before)."""
        keys = {
            (_pk(e.message_id), _event_sk(e.address, e.id)): e.id
            for e in events
            if e.message_id and e.address
        }
        found: set[str] = set()
        pending = list(keys)
        for start in range(0, len(pending), BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": [
                        {"pk": {"S": pk}, "sk": {"S": sk}}
                        for pk, sk in pending[start : start + BATCH_GET_LIMIT]
                    ],
                    "ProjectionExpression": "pk, sk",
                    "ConsistentRead": True,
                }
            }
            for response in self.retry.until_processed(
                self.client.batch_get_item, request, "UnprocessedKeys"
            ):
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found.add(keys[(item["pk"]["S"], item["sk"]["S"])])
        return found

    def erase(self, address: str, digest: str) -> int:
        """Rewrite every item that holds ``address`` under ``digest``; the number rewritten."""
        items = self._query(
            IndexName=ADDRESS_INDEX,
            KeyConditionExpression="gsi2pk = :address",
            ExpressionAttributeValues={":address": {"S": _address_pk(address)}},
        )
        writes: list[dict[str, Any]] = []
        for item in items:
            writes.append({"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}})
            rewritten = {name: value for name, value in item.items() if name != "gsi2pk"}
            rewritten["sk"] = {"S": item["sk"]["S"].replace(address, digest, 1)}
            if "address" in rewritten:
                rewritten["address"] = {"S": digest}
            writes.append({"PutRequest": {"Item": rewritten}})
        self._requests(writes)
        return len(items)

    def _write(self, items: list[dict[str, Any]]) -> None:
        self._requests([{"PutRequest": {"Item": item}} for item in items])

    def _requests(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending: dict[str, Any] = {self.table_name: requests[start : start + BATCH_WRITE_LIMIT]}
            for _ in self.retry.until_processed(self.client.batch_write_item, pending, "UnprocessedItems"):
                pass

    def _ttl(self, moment: datetime) -> str:
        return str(int((moment + self.retention).timestamp()))

    # ---- reads -------------------------------------------------------------------------

    def read(self, message_id: str) -> Timeline | None:
        """The whole timeline of one message in one Query (more when it is large); None: unknown."""
        items = self._query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": _pk(message_id)}},
            ConsistentRead=True,
        )
        if not items:
            return None
        return _timeline(message_id, items)

    def _query(self, **arguments: Any) -> list[dict[str, Any]]:
        """Every item a Query matches, page after page."""
        items: list[dict[str, Any]] = []
        while True:
            response = self.client.query(TableName=self.table_name, **arguments)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def find(self, idempotency_key: str) -> list[str]:
        """The ids of the messages sent with this idempotency key (by any app), oldest first."""
        items = self._query(
            IndexName=IDEMPOTENCY_INDEX,
            KeyConditionExpression="gsi1pk = :key",
            ExpressionAttributeValues={":key": {"S": _idempotency_pk(idempotency_key)}},
        )
        return [item["pk"]["S"].removeprefix("MSG#") for item in items]


def _timeline(message_id: str, items: list[dict[str, Any]]) -> Timeline:
    message: dict[str, Any] = {}
    initial: dict[str, str] = {}
    events: dict[str, list[TimelineEvent]] = {}
    for item in items:
        sk = item["sk"]["S"]
        if sk == MESSAGE_SK:
            message = item
        elif sk.startswith(RECIPIENT_PREFIX):
            initial[item["address"]["S"]] = item["status"]["S"]
        elif sk.startswith(EVENT_PREFIX):
            address, event_id = sk.removeprefix(EVENT_PREFIX).rsplit("#", 1)
            events.setdefault(address, []).append(
                TimelineEvent(
                    type=item["type"]["S"],
                    at=datetime.fromisoformat(item["at"]["S"]),
                    id=event_id,
                    **json.loads(item["fields"]["S"]),
                )
            )
    recipients = []
    for address in [*initial, *(a for a in events if a not in initial)]:
        # Oldest first; what happened to the message before what it did to the list.
        own = sorted(events.get(address, []), key=lambda e: (e.at, e.type.startswith("recipient.")))
        recipients.append(
            TimelineRecipient(
                address=address,
                status=status_of(initial.get(address, SENT), (e.type for e in own)),
                events=own,
            )
        )
    return Timeline(
        message_id=message_id,
        app=message["app"]["S"] if "app" in message else None,
        stream=message["stream"]["S"] if "stream" in message else None,
        tags=json.loads(message["tags"]["S"]) if "tags" in message else {},
        sent_at=datetime.fromisoformat(message["sent_at"]["S"]) if "sent_at" in message else None,
        idempotency_key=message["idempotency_key"]["S"] if "idempotency_key" in message else None,
        recipients=recipients,
    )
