"""A DynamoDB global table's replication, played locally: the home table's stream, applied to
each replica region's table once a lag has passed.

A global table replicates through its stream: every write in one region (an insert, an update,
a delete, a TTL removal) is a stream record, and each other region applies it, in order, about a
second later (AWS: "typically within one second"). Here the home table's stream (moto's DynamoDB
Streams, whose records carry their creation time) is read by one thread per table; a record is
applied to every replica ``lag`` seconds after it was written there: its new image put whole, or
its keys deleted. Until then a replica answers with the state it had, as a real replica does in
its lag. Writes go only to the home table (one writer), so no conflict has to be resolved.

moto never removes items whose TTL has passed (DynamoDB does, within days); an item past its
expiry is replicated with its expiry attribute and read as expired in every region alike.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from ses_feedback_stack.names import LocalStack

from ses_feedback_emulator.bootstrap import replica_regions

# DynamoDB's own figure: a global table's replicas are typically current within a second.
DEFAULT_LAG_SECONDS = 1.0
# How often the stream is read when nothing is due (seconds).
POLL_INTERVAL_SECONDS = 0.2


@dataclass
class Replicator:
    """Copies ``table``'s writes in ``home`` to the table of the same name in each of ``replicas``."""

    table: str
    home: str
    replicas: tuple[str, ...]
    lag: float
    applied: int = 0  # stream records applied to every replica so far
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Replicator:
        streams: Any = boto3.client("dynamodbstreams", region_name=self.home)
        described = boto3.client("dynamodb", region_name=self.home).describe_table(TableName=self.table)
        stream_arn = described["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        # From the first record: the table was just created, and every write must reach the replicas.
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        self._thread = threading.Thread(
            target=self._replicate_forever,
            args=(streams, iterator),
            name=f"replicate-{self.table}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _replicate_forever(self, streams: Any, iterator: str) -> None:
        targets = {region: boto3.client("dynamodb", region_name=region) for region in self.replicas}
        pending: deque[dict[str, Any]] = deque()
        while not self._stop.is_set():
            try:
                response = streams.get_records(ShardIterator=iterator, Limit=1000)
                iterator = response["NextShardIterator"]
                pending.extend(response["Records"])
                while pending and due_at(pending[0], self.lag) <= time.time():
                    record = pending.popleft()
                    for client in targets.values():
                        apply(client, self.table, record)
                    self.applied += 1
            except (ClientError, BotoCoreError) as exc:
                # The server went away (local up stopping) or reset: say so, keep trying.
                print(f"replication of {self.table}: {type(exc).__name__} {exc}", file=sys.stderr, flush=True)
            wait = POLL_INTERVAL_SECONDS
            if pending:
                wait = min(wait, max(0.0, due_at(pending[0], self.lag) - time.time()))
            self._stop.wait(wait)


def due_at(record: dict[str, Any], lag: float) -> float:
    """When a replica applies the record: its creation time plus the lag (epoch seconds)."""
    created = record["dynamodb"]["ApproximateCreationDateTime"]
    if isinstance(created, datetime):
        created = (created if created.tzinfo else created.replace(tzinfo=UTC)).timestamp()
    return float(created) + lag


def apply(client: Any, table: str, record: dict[str, Any]) -> None:
    """One stream record on a replica: the item as it now is at home, or gone."""
    change = record["dynamodb"]
    if record["eventName"] == "REMOVE":
        client.delete_item(TableName=table, Key=change["Keys"])
    else:
        client.put_item(TableName=table, Item=change["NewImage"])


def replicate_global_tables(stack: LocalStack, lag: float) -> list[Replicator]:
    """Start a replicator for each of the home stack's global tables that has replicas."""
    resolver = stack.resolver()
    started: list[Replicator] = []
    for logical_id, resource in stack.resources("AWS::DynamoDB::GlobalTable").items():
        home, *others = replica_regions(resolver.resolve(resource["Properties"]), stack.region)
        if others:
            started.append(Replicator(stack.name(logical_id), home, tuple(others), lag).start())
    return started
