"""DynamoDB capacity units of the requests a boto3 client makes, from item sizes.

moto's ``ReturnConsumedCapacity`` is no measure (checked with moto 5: a PutItem reports 1.0
whatever the item's size, a strongly consistent GetItem 0.5, an UpdateItem 0.5, and a
TransactWriteItems nothing), so the meter applies DynamoDB's own sizing rules to what each
request writes and each answer returns:

- write: 1 WCU per 1 KB of the item, rounded up per item; in a transaction twice that;
- strongly consistent read: 1 RCU per 4 KB, rounded up per item (GetItem, BatchGetItem) or
  over the whole page (Query); an item that is not there still costs 1 (half of both when
  eventually consistent);
- a written item that carries a sparse index's key (``gsi1pk``: suppressed on every stream;
  ``gsi2pk``: holds a per-stream entry) is written to that index too: 1 WCU per 1 KB more per
  index (not doubled in a transaction).

Approximations, stated: a write is sized by the new item (DynamoDB takes the larger of the
old and new item); an UpdateItem by its key and the values it sets; an index entry that
moves to another key costs one more write than counted here.
"""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal
from typing import Any

KB = 1024
INDEX_KEYS = ("gsi1pk", "gsi2pk")


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value, by DynamoDB's item size rules."""
    kind, data = next(iter(value.items()))
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        digits = str(Decimal(str(data)).normalize()).lstrip("-").replace(".", "")
        return math.ceil(len(digits.lstrip("0") or "0") / 2) + 1
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: member}) for member in data)
    if kind == "L":
        return 3 + sum(1 + value_size(member) for member in data)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(member) for name, member in data.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def _write_units(item: dict[str, Any]) -> float:
    return float(max(1, math.ceil(item_size(item) / KB)))


def _read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / (4 * KB)))
    return float(units if consistent else units / 2)


class CapacityMeter:
    """Counts requests, RCU and WCU as they leave one boto3 DynamoDB client (retries included)."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.rcu = 0.0
        self.wcu = 0.0

    def attach(self, client: Any) -> CapacityMeter:
        client.meta.events.register("before-parameter-build.dynamodb", self._remember)
        client.meta.events.register("after-call.dynamodb", self._count)
        return self

    def reset(self) -> None:
        self.requests.clear()
        self.rcu = self.wcu = 0.0

    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["capacity_params"] = dict(params)

    def _count(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        params: dict[str, Any] = context.get("capacity_params", {})
        operation = model.name
        self.requests[operation] += 1
        if operation == "PutItem":
            self._written(params["Item"])
        elif operation == "UpdateItem":
            values = params.get("ExpressionAttributeValues", {})
            self.wcu += _write_units({**params["Key"], **{name[1:]: v for name, v in values.items()}})
        elif operation == "DeleteItem":
            self.wcu += 1
        elif operation == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                for request in requests:
                    if "PutRequest" in request:
                        self._written(request["PutRequest"]["Item"])
                    else:
                        self.wcu += 1
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                if "Put" in entry:
                    self._written(entry["Put"]["Item"], transaction=True)
                else:  # Update, Delete, ConditionCheck: sized by their key
                    (action,) = entry.values()
                    self.wcu += 2 * _write_units(action["Key"])
        elif operation == "GetItem":
            item = parsed.get("Item")
            self.rcu += _read_units(item_size(item) if item else 0, params.get("ConsistentRead", False))
        elif operation == "BatchGetItem":
            for table, wanted in params["RequestItems"].items():
                found = parsed.get("Responses", {}).get(table, [])
                consistent = wanted.get("ConsistentRead", False)
                self.rcu += sum(_read_units(item_size(item), consistent) for item in found)
                # Keys that were asked for and are not there still cost a read each.
                unprocessed = len(parsed.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []))
                self.rcu += (len(wanted["Keys"]) - len(found) - unprocessed) * _read_units(0, consistent)
        elif operation == "Query":
            size = sum(item_size(item) for item in parsed.get("Items", []))
            self.rcu += _read_units(size, params.get("ConsistentRead", False))

    def _written(self, item: dict[str, Any], transaction: bool = False) -> None:
        units = _write_units(item)
        self.wcu += units * (2 if transaction else 1)
        self.wcu += units * sum(1 for key in INDEX_KEYS if key in item)
