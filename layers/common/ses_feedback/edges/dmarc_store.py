"""DmarcReportTable: the one module that knows its layout.

Two kinds of item, written together in one transaction per report:

- the marker, pk ``REPORT#<key>``, sk ``REPORT``: this reporter's report id is stored; its
  condition is what makes a second copy change nothing;
- the report, pk ``DOMAIN#<domain>``, sk ``<begin ISO>#<key>#<part>``: gzip-compressed JSON,
  split into parts of at most 350 KB (DynamoDB items hold 400 KB).

``<key>`` is a hash of reporter and report id. A summary reads one domain's reports since a
date with one Query per page, in the order of their begin time.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ses_feedback.edges.failures import translated
from ses_feedback.model.dmarc import DmarcReport
from ses_feedback.model.moments import iso_z

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Below DynamoDB's 400 KB item limit with room for the other attributes.
PART_BYTES = 350_000
# TransactWriteItems takes 100 items and 4 MB: the marker plus at most 11 parts of 350 KB.
MAX_PARTS = 11


class ReportTooLarge(ValueError):
    """A report that compresses to more than one transaction can write."""


def report_key(reporter: str, report_id: str) -> str:
    return hashlib.sha256(f"{reporter}\0{report_id}".encode()).hexdigest()[:32]


class DmarcReportStore:
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self.client: DynamoDBClient = client or boto3.client(
            "dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 5})
        )

    def put(self, report: DmarcReport, now: datetime, retention: timedelta) -> bool:
        """Store a report once; False when this reporter's report id is already stored."""
        key = report_key(report.reporter, report.report_id)
        body = gzip.compress(report.model_dump_json().encode(), compresslevel=6)
        parts = [body[start : start + PART_BYTES] for start in range(0, len(body), PART_BYTES)]
        if len(parts) > MAX_PARTS:
            raise ReportTooLarge(
                f"the report compresses to {len(body)} bytes (at most {MAX_PARTS * PART_BYTES})"
            )
        expires = {"N": str(int((now + retention).timestamp()))}
        begin = iso_z(report.begin)
        marker: dict[str, Any] = {
            "pk": {"S": f"REPORT#{key}"},
            "sk": {"S": "REPORT"},
            "domain": {"S": report.domain},
            "begin": {"S": begin},
            "stored_at": {"S": iso_z(now)},
            "parts": {"N": str(len(parts))},
            "ttl": expires,
        }
        items: list[Any] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": marker,
                    # The same report again (SES redelivery, a reporter resending) writes nothing.
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        for number, part in enumerate(parts):
            item: dict[str, Any] = {
                "pk": {"S": f"DOMAIN#{report.domain}"},
                "sk": {"S": f"{begin}#{key}#{number:02d}"},
                "stored_at": {"S": iso_z(now)},
                "part": {"N": str(number)},
                "parts": {"N": str(len(parts))},
                "body": {"B": part},
                "ttl": expires,
            }
            items.append({"Put": {"TableName": self.table_name, "Item": item}})
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as problem:
            reasons = problem.response.get("CancellationReasons", [])
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True

    def reports(self, domain: str, since: datetime | None = None) -> Iterator[DmarcReport]:
        """The domain's stored reports that began at or after ``since``, oldest first."""
        condition = "pk = :pk"
        values: dict[str, Any] = {":pk": {"S": f"DOMAIN#{domain.lower()}"}}
        if since is not None:
            condition += " AND sk >= :since"
            values[":since"] = {"S": iso_z(since)}
        pending: list[bytes] = []
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        while True:
            with translated():
                page = self.client.query(**arguments)
            for item in page.get("Items", []):
                pending.append(item["body"]["B"])
                if int(item["part"]["N"]) + 1 == int(item["parts"]["N"]):
                    yield DmarcReport.model_validate(json.loads(gzip.decompress(b"".join(pending))))
                    pending = []
            if "LastEvaluatedKey" not in page:
                return
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def latest_stored_at(self, domain: str) -> datetime | None:
        """When the newest report (by begin time) of the domain was stored."""
        with translated():
            page = self.client.query(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"DOMAIN#{domain.lower()}"}},
                ProjectionExpression="stored_at",
                ScanIndexForward=False,
                Limit=1,
            )
        items = page.get("Items", [])
        return datetime.fromisoformat(items[0]["stored_at"]["S"].replace("Z", "+00:00")) if items else None
