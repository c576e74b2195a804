"""DynamoDB: the only module that knows the suppression table's layout.

One table, one partition per address:

=========  ==============================  ==================================================
item       key (pk / sk)                   what it holds
=========  ==============================  ==================================================
state      ``ADDR#<address>`` / ``STATE``  reason, since, expiry, soft-bounce counter, version
history    ``ADDR#<address>`` /            one feedback event or manual change; expires with
           ``EVT#<iso time>#<dedupe key>`` the history retention (TTL)
=========  ==============================  ==================================================

``STATE`` sorts after every ``EVT#…`` key, so one descending Query returns the state and
then the history newest first. A sparse index (``gsi1``) holds only suppressed addresses,
keyed by reason, for listing. ``ttl`` is DynamoDB's TTL attribute on both item kinds.

**Streams.** A suppression that covers every stream (bounces, manual, a complaint about
transactional mail) is the state item's ``reason``, as before streams existed. One that
covers less (a complaint about bulk mail: every bulk stream; an unsubscribe: one stream) is
an entry of the state item's ``scopes`` map, ``{"*bulk" | <stream>: {"reason", "since"}}``.
So the sender's check still reads one item per address (one ``BatchGetItem`` per 100 keys,
whatever the scopes), and a table written before streams existed answers right unchanged:
its items have no ``scopes``, and their ``reason`` applies on every stream. Only
every-stream suppressions are in the ``gsi1`` listing. A second sparse index (``gsi2``) holds
only state items with at least one scoped entry, in one partition (``SCOPED``) sorted by their
newest scoped ``since``: a stream's listing is the ``gsi1`` listing (every-stream suppressions
apply on every stream) followed by the ``gsi2`` items whose scopes cover that stream and that
hold no current every-stream reason (those were in the first part), so no address is listed
twice. Tables written before streams existed have no scopes, so nothing needs a backfill.

**Erasure.** Erasing an address deletes every item of its partition (state and history)
and writes a *tombstone* ``ERASED#<HMAC-SHA256 of the address>`` / ``STATE`` (the key is
the stack's secret, so the table alone does not reverse it), with its own audit history in
the same partition. When a ``tombstone_of`` function is given, state reads also read the
addresses' tombstone keys in the same ``BatchGetItem`` (two keys per address: the sender's 50
recipients are still one request), and an erased address reads as reason ``erased``; every
write is a transaction that also checks the tombstone's absence (``ConditionCheck``), so
nothing writes an erased address back in clear, and feedback, which only writes, reads its
batch without the tombstone keys (``tombstones=False``: one ``BatchGetItem`` per 100
addresses, as before). An erasure that races a first write of the same address (no state
item yet, read before the tombstone existed) is caught by that check too.

Every state change is one ``TransactWriteItems``: a conditional Put of the history item
(it must not exist yet: that makes a repeated notification change nothing) and a Put of
the state conditional on the version that was read (so concurrent notifications for one
address never lose an update; the loser re-reads and decides again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ses_feedback.errors import AddressErased, InvalidCursor, StoreBusy, VersionConflict
from ses_feedback.model.moments import iso_z
from ses_feedback.model.reasons import LISTING_ORDER, Reason
from ses_feedback.model.state import (
    AddressState,
    Applied,
    ApplyResult,
    Decision,
    HistoryEntry,
    HistoryPage,
    StatePage,
)
from ses_feedback.model.streams import ALL_BULK, ALL_BULK_UNSUBSCRIBED, EVERY, ScopedSuppression
from ses_feedback.parsing.addresses import address_hash
from ses_feedback.parsing.operator_input import EXPORT, RECENT_HISTORY
from ses_feedback.retry import RetryPolicy
from ses_feedback.rules.cursors import CursorSeal

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]

STATE_SK = "STATE"
TOMBSTONE_PREFIX = "ERASED#"
HISTORY_PREFIX = "EVT#"
SUPPRESSED_INDEX = "gsi1"
SCOPED_INDEX = "gsi2"
SCOPED_PK = "SCOPED"
# A stream's listing filters the scoped index (every stream's entries are in one partition):
# read at least this many items a Query, so a selective filter does not cost a round trip per match.
SCOPED_READ_MIN = 100
# BatchGetItem takes at most 100 keys per request, BatchWriteItem at most 25 items.
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25


def _pk(address: str) -> str:
    return f"ADDR#{address}"


def _iso(moment: datetime) -> str:
    return iso_z(moment, "milliseconds")


def _from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _epoch(moment: datetime) -> str:
    return str(int(moment.timestamp()))


class SuppressionStore:
    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        tombstone_of: Callable[[str], str] | None = None,
        retry: RetryPolicy | None = None,
        cursors: Callable[[], CursorSeal] = CursorSeal.for_this_process,
        *,
        region: str | None = None,
    ) -> None:
        self.table_name = table_name
        # address → its tombstone's keyed hash (None: this store neither reads nor writes tombstones)
        self.tombstone_of = tombstone_of
        # The one retry policy: unprocessed keys and items here, version conflicts in the write path.
        self.retry = retry or RetryPolicy()
        # what seals the listings' cursors (built on the first cursor: it may read the secret)
        self.cursors = cursors
        # ``region``: the table's region when it is not this one (a replica region's writers
        # write to the home region's table; None: the region boto3 picks).
        self.client: DynamoDBClient = client or boto3.client(
            "dynamodb", region_name=region, config=Config(retries={"mode": "standard", "max_attempts": 5})
        )

    # ---- reads -------------------------------------------------------------------------

    def get_states(
        self, addresses: Iterable[str], brief: bool = False, tombstones: bool = True
    ) -> dict[str, AddressState]:
        """States of many addresses in as few BatchGetItem calls as possible (absent = clean).

        ``brief`` reads only what says whether and why an address is suppressed (reason,
        expiry, lift, version): smaller answers for bulk checks; never write such a state back.
        ``tombstones=False`` leaves out the erasure keys, for a reader that only writes: every
        write is conditional on the tombstone's absence anyway (``apply``).
        """
        wanted = list(dict.fromkeys(addresses))
        states = {address: AddressState(address=address) for address in wanted}
        # Each address's state key, and its tombstone's key when erasure is on.
        by_pk: dict[str, str] = {_pk(a): a for a in wanted}
        if self.tombstone_of is not None and tombstones:
            by_pk.update({_tombstone_pk(self.tombstone_of(a)): a for a in wanted})
        partitions = list(by_pk)
        erased: dict[str, AddressState] = {}
        for start in range(0, len(partitions), BATCH_GET_LIMIT):
            keys: list[dict[str, Any]] = [
                {"pk": {"S": pk}, "sk": {"S": STATE_SK}} for pk in partitions[start : start + BATCH_GET_LIMIT]
            ]
            wanted_keys: dict[str, Any] = {"Keys": keys, "ConsistentRead": True}
            if brief:
                wanted_keys["ProjectionExpression"] = ", ".join(_BRIEF_ATTRIBUTES)
            request: dict[str, Any] = {self.table_name: wanted_keys}
            for response in self._until_processed(self.client.batch_get_item, request, "UnprocessedKeys"):
                for item in response.get("Responses", {}).get(self.table_name, []):
                    pk = item["pk"]["S"]
                    if pk.startswith(TOMBSTONE_PREFIX):
                        erased[by_pk[pk]] = _erased_state(by_pk[pk], item)
                    else:
                        state = _state_from_item(item)
                        states[state.address] = state
        states.update(erased)  # a tombstone wins over anything left in clear
        return states

    def get_state(self, address: str) -> AddressState:
        if self.tombstone_of is not None:
            return self.get_states([address])[address]
        response = self.client.get_item(
            TableName=self.table_name,
            Key={"pk": {"S": _pk(address)}, "sk": {"S": STATE_SK}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _state_from_item(item) if item else AddressState(address=address)

    def get_with_history(
        self, address: str, limit: int = RECENT_HISTORY.default
    ) -> tuple[AddressState, list[HistoryEntry]]:
        """The state and the newest ``limit`` history entries, in one Query."""
        response = self.client.query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": _pk(address)}},
            ScanIndexForward=False,
            Limit=limit + 1,
        )
        state = AddressState(address=address)
        history = []
        for item in response.get("Items", []):
            if item["sk"]["S"] == STATE_SK:
                state = _state_from_item(item)
            else:
                history.append(_history_from_item(item))
        if self.tombstone_of is not None:
            tombstone = self.client.get_item(
                TableName=self.table_name,
                Key={"pk": {"S": _tombstone_pk(self.tombstone_of(address))}, "sk": {"S": STATE_SK}},
                ConsistentRead=True,
            ).get("Item")
            if tombstone:
                state = _erased_state(address, tombstone)
        return state, history[:limit]

    def scan_history(self, since: datetime | None = None) -> Iterator[tuple[str, HistoryEntry]]:
        """Every history entry (of every address) that occurred at or after ``since``.

        A Scan of the whole table, for operator reports (``ses-feedback stats``): it reads
        every item once, so its cost grows with the table; nothing on a hot path calls it.
        """
        lower = f"{HISTORY_PREFIX}{_iso(since)}" if since else HISTORY_PREFIX
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": "begins_with(sk, :history) AND sk >= :lower",
            "ExpressionAttributeValues": {":history": {"S": HISTORY_PREFIX}, ":lower": {"S": lower}},
        }
        while True:
            response = self.client.scan(**arguments)
            for item in response.get("Items", []):
                yield item["pk"]["S"].removeprefix("ADDR#"), _history_from_item(item)
            if "LastEvaluatedKey" not in response:
                return
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def count_suppressed(self, now: datetime) -> dict[Reason, int]:
        """How many addresses are suppressed now, per reason (one paginated COUNT query each).

        Expired temporary suppressions that TTL has not deleted yet are not counted.
        """
        counts: dict[Reason, int] = {}
        for reason in LISTING_ORDER:
            arguments: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": SUPPRESSED_INDEX,
                "KeyConditionExpression": "gsi1pk = :reason",
                "FilterExpression": "attribute_not_exists(expires_at) OR expires_at > :now",
                "ExpressionAttributeValues": {
                    ":reason": {"S": f"SUPPRESSED#{reason.value}"},
                    ":now": {"N": _epoch(now)},
                },
                "Select": "COUNT",
            }
            total = 0
            while True:
                response = self.client.query(**arguments)
                total += response.get("Count", 0)
                if "LastEvaluatedKey" not in response:
                    break
                arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            counts[reason] = total
        return counts

    # ---- writes ------------------------------------------------------------------------

    def apply(
        self, decision: Decision, expected: AddressState, now: datetime, retention_until: datetime
    ) -> Applied:
        """Write one decision: its history entry and, if it changes the state, the new state.

        Raises ``VersionConflict`` when the state is no longer ``expected``.
        """
        history: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": _history_item(decision, now, retention_until),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        # With erasure on, every write also checks, in the same transaction, that the address
        # has no tombstone: nothing writes an erased address back in clear, whatever it read.
        not_erased: list[dict[str, Any]] = []
        if self.tombstone_of is not None:
            not_erased = [
                {
                    "ConditionCheck": {
                        "TableName": self.table_name,
                        "Key": {
                            "pk": {"S": _tombstone_pk(self.tombstone_of(decision.address))},
                            "sk": {"S": STATE_SK},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ]
        if decision.new_state is None and not not_erased:
            try:
                self.client.put_item(**history)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                    return Applied(ApplyResult.DUPLICATE)
                raise
            return Applied(ApplyResult.APPLIED)
        if decision.new_state is None:
            codes = self._transact([{"Put": history}, *not_erased])
            if codes is None:
                return Applied(ApplyResult.APPLIED)
            if codes[1:2] == ["ConditionalCheckFailed"]:
                raise AddressErased("the address is erased")
            if codes[:1] == ["ConditionalCheckFailed"]:
                return Applied(ApplyResult.DUPLICATE)
            # Cancelled for another reason (a concurrent transaction on the tombstone, throttling):
            # nothing was written, so it is no duplicate; the caller tries again.
            raise _changed(decision.address)

        new_state = replace(decision.new_state, version=expected.version + 1)
        state_put: dict[str, Any] = {"TableName": self.table_name, "Item": _state_item(new_state, now)}
        if expected.version == 0:
            state_put["ConditionExpression"] = "attribute_not_exists(pk) OR attribute_not_exists(version)"
        else:
            state_put["ConditionExpression"] = "version = :expected"
            state_put["ExpressionAttributeValues"] = {":expected": {"N": str(expected.version)}}
        codes = self._transact([{"Put": history}, {"Put": state_put}, *not_erased])
        if codes is None:
            return Applied(ApplyResult.APPLIED, new_state)
        if codes[2:3] == ["ConditionalCheckFailed"]:
            raise AddressErased("the address is erased")
        if codes and codes[0] == "ConditionalCheckFailed":
            return Applied(ApplyResult.DUPLICATE)
        raise _changed(decision.address)

    def _transact(self, items: list[dict[str, Any]]) -> list[str | None] | None:
        """One TransactWriteItems; None when it committed, else each item's cancellation code."""
        try:
            self.client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons: list[dict[str, str]] = exc.response.get("CancellationReasons", [])  # type: ignore[assignment]
            return [r.get("Code") for r in reasons]
        return None

    def list_suppressed(
        self,
        reason: Reason | None,
        limit: int,
        cursor: str | None,
        now: datetime,
        *,
        stream: str | None = None,
        bulk: bool = False,
    ) -> StatePage:
        """Suppressed addresses, newest first within a reason (all reasons if None), paginated.

        Reads the sparse index. An expired soft bounce that TTL has not deleted yet is
        filtered out, so a page is filled by as many Queries as that takes; one item more
        than the page is read so that ``next_cursor`` is None exactly on the last page.

        With a ``stream`` (``bulk``: whether it is a bulk stream), the addresses mail on that
        stream may not go to now: the every-stream listing, then the scoped entries that cover
        the stream (``_list_scoped``); ``reason`` is then the reason that applies on the stream.
        One cursor resumes across both parts.
        """
        reasons = [reason] if reason is not None else list(LISTING_ORDER)
        if stream is not None:  # unsubscribes are never in gsi1: do not ask it for them
            reasons = [r for r in reasons if r in LISTING_ORDER]
        start_key: dict[str, Any] | None = None
        in_scoped_part = False
        if cursor is not None:
            resumed, start_key = _decode_listing_cursor(self.cursors().open(cursor), stream, reason)
            if resumed is None:
                in_scoped_part, reasons = True, []
            elif resumed not in reasons:
                raise InvalidCursor("the cursor belongs to another reason's listing")
            else:
                reasons = reasons[reasons.index(resumed) :]
        found: list[tuple[Reason | None, Item]] = []
        for current in reasons:
            while len(found) <= limit:
                query: dict[str, Any] = {
                    "TableName": self.table_name,
                    "IndexName": SUPPRESSED_INDEX,
                    "KeyConditionExpression": "gsi1pk = :pk",
                    "FilterExpression": "attribute_not_exists(expires_at) OR expires_at > :now",
                    "ExpressionAttributeValues": {
                        ":pk": {"S": _index_pk(current)},
                        ":now": {"N": _epoch(now)},
                    },
                    "ScanIndexForward": False,
                    "Limit": limit + 1 - len(found),
                }
                if start_key:
                    query["ExclusiveStartKey"] = start_key
                response = self.client.query(**query)
                found.extend((current, item) for item in response.get("Items", []))
                start_key = response.get("LastEvaluatedKey")
                if not start_key:
                    break
            start_key = None
            if len(found) > limit:
                break
        if stream is not None and len(found) <= limit:
            scoped = self._list_scoped(
                stream,
                bulk,
                reason,
                wanted=limit + 1 - len(found),
                start_key=start_key if in_scoped_part else None,
                now=now,
            )
            found.extend((None, item) for item in scoped)
        page = found[:limit]
        next_cursor = None
        if len(found) > limit and page:
            last_reason, last_item = page[-1]
            next_cursor = self.cursors().seal(_listing_position(last_reason, last_item, stream, reason))
        return StatePage([_state_from_item(item) for _, item in page], next_cursor)

    def _list_scoped(
        self,
        stream: str,
        bulk: bool,
        reason: Reason | None,
        *,
        wanted: int,
        start_key: dict[str, Any] | None,
        now: datetime,
    ) -> list[Item]:
        """At least ``wanted`` state items (fewer at the end) whose scoped entries hold mail on
        ``stream``, and that hold no current every-stream reason: newest first, from the scoped
        index, after ``start_key``.

        The FilterExpression keeps what may match; ``AddressState.scope_on`` (the sender's own
        rule) decides, so a row's reason is the one that applies on the stream.
        """
        names = {"#scopes": "scopes", "#stream": stream, "#reason": "reason", "#expires": "expires_at"}
        covering = ["#scopes.#stream"]
        if bulk:
            names["#bulk"] = ALL_BULK
            names["#left"] = ALL_BULK_UNSUBSCRIBED
            covering.extend(("#scopes.#bulk", "#scopes.#left"))
        values: dict[str, Any] = {":pk": {"S": SCOPED_PK}, ":now": {"N": _epoch(now)}}
        # Items with a current every-stream reason were listed from gsi1 already.
        conditions = [
            "(" + " OR ".join(f"attribute_exists({path})" for path in covering) + ")",
            "(attribute_not_exists(#reason) OR #expires <= :now)",
        ]
        if reason is not None:
            values[":reason"] = {"S": reason.value}
            conditions.append("(" + " OR ".join(f"{path}.#reason = :reason" for path in covering) + ")")
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": SCOPED_INDEX,
            "KeyConditionExpression": "gsi2pk = :pk",
            "FilterExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        if start_key:
            query["ExclusiveStartKey"] = start_key
        found: list[Item] = []
        while len(found) < wanted:
            query["Limit"] = max(wanted - len(found), SCOPED_READ_MIN)
            response = self.client.query(**query)
            for item in response.get("Items", []):
                applying = _state_from_item(item).scope_on(stream, bulk, now)
                if applying is not None and applying[0] != EVERY and reason in (None, applying[1]):
                    found.append(item)
            if "LastEvaluatedKey" not in response:
                break
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found

    def iter_suppressed(
        self,
        reason: Reason | None,
        now: datetime,
        page_size: int = EXPORT.default,
        *,
        stream: str | None = None,
        bulk: bool = False,
    ) -> Iterator[AddressState]:
        """Every suppressed address (on ``stream``, if given), page by page: memory does not
        grow with the list."""
        cursor: str | None = None
        while True:
            page = self.list_suppressed(reason, page_size, cursor, now, stream=stream, bulk=bulk)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def history(self, address: str, limit: int, cursor: str | None = None) -> HistoryPage:
        """An address's history, newest first, ``limit`` entries a page."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :evt)",
            "ExpressionAttributeValues": {":pk": {"S": _pk(address)}, ":evt": {"S": HISTORY_PREFIX}},
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if cursor is not None:
            query["ExclusiveStartKey"] = _decode_history_cursor(self.cursors().open(cursor), address)
        items = self.client.query(**query).get("Items", [])
        page = items[:limit]
        next_cursor = None
        if len(items) > limit and page:
            next_cursor = self.cursors().seal({"a": address, "sk": page[-1]["sk"]["S"]})
        return HistoryPage([_history_from_item(item) for item in page], next_cursor)

    def put_new_states(self, states: Sequence[AddressState], now: datetime) -> int:
        """Write states of addresses the table did not know, 25 per BatchWriteItem; returns requests made.

        BatchWriteItem takes no conditions: callers pass only addresses whose absence they
        have just read, each at most once per call. Items left unprocessed (throttling) are
        sent again as the retry policy says.
        """
        requests = 0
        for start in range(0, len(states), BATCH_WRITE_LIMIT):
            chunk = states[start : start + BATCH_WRITE_LIMIT]
            pending: dict[str, Any] = {
                self.table_name: [{"PutRequest": {"Item": _state_item(state, now)}} for state in chunk]
            }
            requests += sum(
                1 for _ in self._until_processed(self.client.batch_write_item, pending, "UnprocessedItems")
            )
        return requests

    def erase(self, address: str, audit: Decision, now: datetime, retention_until: datetime) -> int:
        """Delete every item of ``address``'s partition; keep a tombstone and its audit entry.

        The tombstone is written first, so a crash half-way leaves the address suppressed and
        a retry finishes the deletion. Returns how many items held the address in clear.
        """
        if self.tombstone_of is None:
            raise RuntimeError("erasure needs the stack's secret (tombstone_of)")
        tombstone_pk = _tombstone_pk(self.tombstone_of(address))
        tombstone: Item = {
            "pk": {"S": tombstone_pk},
            "sk": {"S": STATE_SK},
            "reason": {"S": Reason.ERASED.value},
            "since": {"S": _iso(now)},
            "updated_at": {"S": _iso(now)},
        }
        try:
            # The first erasure's date stays; a repeated erasure only adds its audit entry.
            self.client.put_item(
                TableName=self.table_name, Item=tombstone, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        entry = _history_item(audit, now, retention_until)
        entry["pk"] = {"S": tombstone_pk}
        self.client.put_item(TableName=self.table_name, Item=entry)
        deleted = 0
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": _pk(address)}},
            "ProjectionExpression": "pk, sk",
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**arguments)
            keys = [{"pk": item["pk"], "sk": item["sk"]} for item in response.get("Items", [])]
            for start in range(0, len(keys), BATCH_WRITE_LIMIT):
                pending: dict[str, Any] = {
                    self.table_name: [
                        {"DeleteRequest": {"Key": key}} for key in keys[start : start + BATCH_WRITE_LIMIT]
                    ]
                }
                for _ in self._until_processed(self.client.batch_write_item, pending, "UnprocessedItems"):
                    pass
            deleted += len(keys)
            if "LastEvaluatedKey" not in response:
                return deleted
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def lift_erasure(self, address: str, audit: Decision, now: datetime, retention_until: datetime) -> bool:
        """Delete ``address``'s tombstone, with an audit entry beside it; False when there was none.

        One transaction: the tombstone's deletion (it must exist) and the entry (no address
        in it, like the erasure's). The address's data went with the erasure: it comes back
        clean, and only new feedback or an operator suppresses it again.
        """
        if self.tombstone_of is None:
            raise RuntimeError("lifting an erasure needs the stack's secret (tombstone_of)")
        tombstone_pk = _tombstone_pk(self.tombstone_of(address))
        entry = _history_item(audit, now, retention_until)
        entry["pk"] = {"S": tombstone_pk}
        codes = self._transact(
            [
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": {"pk": {"S": tombstone_pk}, "sk": {"S": STATE_SK}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {"Put": {"TableName": self.table_name, "Item": entry}},
            ]
        )
        return codes is None

    def _until_processed(
        self, call: Callable[..., Any], request_items: dict[str, Any], unprocessed: str
    ) -> Iterator[dict[str, Any]]:
        """Each response of a BatchGetItem or BatchWriteItem, sent again for what DynamoDB left
        ``unprocessed`` (a throttled partition) after the retry policy's pause; ``StoreBusy``
        when the policy has no attempt or no time left."""
        attempt = 0
        pending = request_items
        while True:
            response: dict[str, Any] = call(RequestItems=pending)
            yield response
            pending = dict(response.get(unprocessed) or {})
            if not pending:
                return
            if not self.retry.wait(attempt):
                raise StoreBusy("DynamoDB kept leaving part of a batch unprocessed (throttling)")
            attempt += 1

    def history_exists(self, decision: Decision) -> bool:
        response = self.client.get_item(
            TableName=self.table_name,
            Key={"pk": {"S": _pk(decision.address)}, "sk": {"S": _history_sk(decision)}},
            ConsistentRead=True,
            ProjectionExpression="pk",
        )
        return "Item" in response


# ---- item (de)serialisation: the table layout, in one place ------------------------------

_INDEX_KEY = ("gsi1pk", "gsi1sk", "pk", "sk")
_SCOPED_KEY = ("gsi2pk", "gsi2sk", "pk", "sk")
_BRIEF_ATTRIBUTES = ("pk", "address", "reason", "since", "expires_at", "lifted_at", "version", "scopes")


def _tombstone_pk(digest: str) -> str:
    return f"{TOMBSTONE_PREFIX}{digest}"


def _erased_state(address: str, tombstone: dict[str, Any]) -> AddressState:
    since = tombstone.get("since", {}).get("S")
    return AddressState(
        address=address, reason=Reason.ERASED, since=_from_iso(since) if since else None, erased=True
    )


def _index_pk(reason: Reason) -> str:
    return f"SUPPRESSED#{reason.value}"


# Cursors are sealed (``rules.cursors``: encrypted and authenticated), so callers can neither
# read nor edit them; the position one holds is still checked against the query it resumes,
# so another listing's cursor gets a clear error instead of reading somewhere unexpected.


def _changed(address: str) -> VersionConflict:
    """The address changed since it was read (named by its hash: the error may be logged)."""
    return VersionConflict(f"address {address_hash(address)} changed since it was read")


def _listing_position(
    reason: Reason | None, item: Item, stream: str | None, only: Reason | None
) -> dict[str, Any]:
    """The position after ``item``: of the every-stream part (``reason``'s partition) or, when
    ``reason`` is None, of a stream's scoped part. A stream's cursors name the stream and the
    reason asked for, so they resume only the listing they came from."""
    value: dict[str, Any] = {}
    if stream is not None:
        value.update(s=stream, f=only.value if only is not None else None)
    if reason is not None:
        value.update(r=reason.value, k={name: item[name]["S"] for name in _INDEX_KEY})
    else:
        value["k"] = {name: item[name]["S"] for name in _SCOPED_KEY}
    return value


def _decode_listing_cursor(
    value: dict[str, Any], stream: str | None = None, only: Reason | None = None
) -> tuple[Reason | None, dict[str, Any]]:
    """Where a listing resumes (``value``: an opened cursor's position): the reason's partition
    of gsi1 (None: a stream's scoped part, gsi2) and the key to start after. A cursor of another
    listing is refused."""
    listing = {"s", "f"} if stream is not None else set()
    if stream is not None:
        if value.get("s") != stream:
            raise InvalidCursor("the cursor belongs to another stream's listing")
        if value.get("f") != (only.value if only is not None else None):
            raise InvalidCursor("the cursor belongs to another reason's listing")
    key = value.get("k")
    if not isinstance(key, dict) or not all(isinstance(part, str) for part in key.values()):
        raise InvalidCursor()
    if stream is not None and set(value) == listing | {"k"}:
        if set(key) != set(_SCOPED_KEY) or key["gsi2pk"] != SCOPED_PK:
            raise InvalidCursor()
        _check_state_key(key, "gsi2sk")
        return None, {name: {"S": part} for name, part in key.items()}
    if set(value) != listing | {"r", "k"}:
        raise InvalidCursor()
    try:
        reason = Reason(str(value.get("r")))
    except ValueError:
        raise InvalidCursor() from None
    if set(key) != set(_INDEX_KEY) or key["gsi1pk"] != _index_pk(reason):
        raise InvalidCursor()
    _check_state_key(key, "gsi1sk")
    return reason, {name: {"S": part} for name, part in key.items()}


def _check_state_key(key: dict[str, str], sort_name: str) -> None:
    """An index key of a state item: its table key, and the index sort key ending in its address."""
    address = key["pk"].removeprefix("ADDR#")
    if (
        key["sk"] != STATE_SK
        or not key["pk"].startswith("ADDR#")
        or not key[sort_name].endswith(f"#{address}")
    ):
        raise InvalidCursor()


def _decode_history_cursor(value: dict[str, Any], address: str) -> dict[str, Any]:
    sort_key = value.get("sk")
    if value.get("a") != address:
        raise InvalidCursor("the cursor belongs to another address's history")
    if not isinstance(sort_key, str) or not sort_key.startswith(HISTORY_PREFIX):
        raise InvalidCursor()
    return {"pk": {"S": _pk(address)}, "sk": {"S": sort_key}}


def _history_sk(decision: Decision) -> str:
    return f"{HISTORY_PREFIX}{_iso(decision.occurred_at)}#{decision.dedupe_key}"


def _history_item(decision: Decision, now: datetime, retention_until: datetime) -> Item:
    item: Item = {
        "pk": {"S": _pk(decision.address)},
        "sk": {"S": _history_sk(decision)},
        "event_type": {"S": decision.event_type},
        "action": {"S": decision.action.value},
        "detail": {"S": decision.detail},
        "recorded_at": {"S": _iso(now)},
        "ttl": {"N": _epoch(retention_until)},
    }
    if decision.reason is not None:
        item["reason"] = {"S": decision.reason.value}
    if decision.note is not None:
        item["note"] = {"S": decision.note}
    if decision.actor is not None:
        item["actor"] = {"S": decision.actor}
    if decision.source is not None:
        item["source"] = {"S": decision.source.value}
    return item


def _history_from_item(item: dict[str, Any]) -> HistoryEntry:
    _, occurred, key = item["sk"]["S"].split("#", 2)
    return HistoryEntry(
        occurred_at=_from_iso(occurred),
        event_type=item["event_type"]["S"],
        action=item["action"]["S"],
        detail=item.get("detail", {}).get("S", ""),
        reason=item.get("reason", {}).get("S"),
        dedupe_key=key,
        note=item.get("note", {}).get("S"),
        actor=item.get("actor", {}).get("S"),
        source=item.get("source", {}).get("S"),
    )


def _state_item(state: AddressState, now: datetime) -> Item:
    item: Item = {
        "pk": {"S": _pk(state.address)},
        "sk": {"S": STATE_SK},
        "address": {"S": state.address},
        "soft_bounce_count": {"N": str(state.soft_bounce_count)},
        "version": {"N": str(state.version)},
        "updated_at": {"S": _iso(now)},
    }
    optional: dict[str, str | None] = {
        "since": _iso(state.since) if state.since else None,
        "soft_window_start": _iso(state.soft_window_start) if state.soft_window_start else None,
        "note": state.note,
        "actor": state.actor,
        "lifted_at": _iso(state.lifted_at) if state.lifted_at else None,
    }
    item.update({name: {"S": value} for name, value in optional.items() if value is not None})
    if state.reason is not None:
        item["reason"] = {"S": state.reason.value}
        # Sparse index: only suppressed addresses carry these keys.
        item["gsi1pk"] = {"S": _index_pk(state.reason)}
        item["gsi1sk"] = {"S": f"{_iso(state.since or now)}#{state.address}"}
    if state.scoped:
        # Sparse index of the stream listings: only states with scoped entries carry these keys.
        item["gsi2pk"] = {"S": SCOPED_PK}
        item["gsi2sk"] = {"S": f"{_iso(max(entry.since for entry in state.scoped))}#{state.address}"}
        item["scopes"] = {
            "M": {
                entry.scope: {"M": {"reason": {"S": entry.reason.value}, "since": {"S": _iso(entry.since)}}}
                for entry in state.scoped
            }
        }
    if state.expires_at is not None:
        item["expires_at"] = {"N": _epoch(state.expires_at)}
        # A temporary suppression's state is deleted by DynamoDB's TTL once it expires, unless
        # it also holds scoped suppressions, which do not expire.
        if not state.scoped:
            item["ttl"] = {"N": _epoch(state.expires_at)}
    return item


def _state_from_item(item: dict[str, Any]) -> AddressState:
    def text(name: str) -> str | None:
        value = item.get(name)
        return value["S"] if value else None

    since = text("since")
    window = text("soft_window_start")
    expires = item.get("expires_at")
    reason = text("reason")
    lifted = text("lifted_at")
    return AddressState(
        address=item["address"]["S"],
        reason=Reason(reason) if reason else None,
        since=_from_iso(since) if since else None,
        expires_at=datetime.fromtimestamp(int(expires["N"]), UTC) if expires else None,
        soft_bounce_count=int(item.get("soft_bounce_count", {"N": "0"})["N"]),
        soft_window_start=_from_iso(window) if window else None,
        note=text("note"),
        actor=text("actor"),
        version=int(item.get("version", {"N": "0"})["N"]),
        lifted_at=_from_iso(lifted) if lifted else None,
        scoped=tuple(
            ScopedSuppression(scope, Reason(entry["M"]["reason"]["S"]), _from_iso(entry["M"]["since"]["S"]))
            for scope, entry in sorted(item.get("scopes", {}).get("M", {}).items())
        ),
    )
