"""The region an SQS queue URL names: a redrive in a replica region reaches two regions, each
queue in the region its URL says."""

from __future__ import annotations

import pytest
from ses_feedback.edges.queues import queue_region


@pytest.mark.parametrize(
    ("url", "region"),
    [
        ("https://sqs.eu-west-1.amazonaws.com/123456789012/q", "eu-west-1"),
        ("https://eu-west-1.queue.amazonaws.com/123456789012/q", "eu-west-1"),
        ("https://queue.amazonaws.com/123456789012/q", "us-east-1"),  # SQS's first endpoint
        ("https://sqs.eu-west-1.api.aws/123456789012/q", "eu-west-1"),  # dual-stack
        ("https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/q", "us-gov-west-1"),
        ("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", "cn-north-1"),
        ("https://vpce-0a1b-c2d3.sqs.ap-southeast-2.vpce.amazonaws.com/123456789012/q", "ap-southeast-2"),
        ("HTTPS://SQS.EU-WEST-1.AMAZONAWS.COM/123456789012/q", "eu-west-1"),
    ],
)
def test_the_region_in_an_aws_queue_url(url: str, region: str) -> None:
    assert queue_region(url) == region


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5000/123456789012/q",  # a local endpoint names no region
        "http://localhost:4566/000000000000/q",
        "https://sqs.eu-west-1.example.com/123456789012/q",  # not AWS's domain
        "not a url",
        "",
    ],
)
def test_a_url_without_a_region_says_none(url: str) -> None:
    assert queue_region(url) is None
