"""SES v2's view of a sending setup, for the doctor and production-access: the domain's identity,
a configuration set and its event destinations, the account; and the request to leave the
sandbox (``PutAccountDetails``).

Answers are SES's own (the doctor turns them into facts); "not found" is None, any other
failure leaves as ``AwsCallFailed`` (``edges.failures``): with AWS's error code when SES
answered, without one when it could not be reached (no credentials, no network).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3

from ses_feedback.edges.failures import translated
from ses_feedback.errors import AwsCallFailed

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

_NOT_FOUND = "NotFoundException"


class SesSetup:
    """SES v2 in one region; pass ``client`` to use another (a moto or stubbed one in tests)."""

    def __init__(self, region: str | None = None, client: SESV2Client | None = None) -> None:
        self.region = region
        self._client = client

    @cached_property
    def client(self) -> SESV2Client:
        return self._client or boto3.client("sesv2", region_name=self.region)

    def identity(self, domain: str) -> dict[str, Any] | None:
        """``GetEmailIdentity``; None when SES has no such identity in this region."""
        try:
            with translated():
                return dict(self.client.get_email_identity(EmailIdentity=domain))
        except AwsCallFailed as exc:
            if exc.aws_code == _NOT_FOUND:
                return None
            raise

    def configuration_set_exists(self, name: str) -> bool:
        """``GetConfigurationSet``: False when there is no such set."""
        try:
            with translated():
                self.client.get_configuration_set(ConfigurationSetName=name)
        except AwsCallFailed as exc:
            if exc.aws_code == _NOT_FOUND:
                return False
            raise
        return True

    def event_destinations(self, name: str) -> list[dict[str, Any]]:
        """``GetConfigurationSetEventDestinations``."""
        with translated():
            response = self.client.get_configuration_set_event_destinations(ConfigurationSetName=name)
        return [dict(destination) for destination in response.get("EventDestinations", [])]

    def account(self) -> dict[str, Any]:
        """``GetAccount``: sending enabled, production access, quota."""
        with translated():
            return dict(self.client.get_account())

    def request_production_access(
        self, mail_type: str, website_url: str, description: str, contacts: list[str]
    ) -> None:
        """``PutAccountDetails``: the request to leave the sandbox in this region."""
        arguments: dict[str, Any] = {
            "MailType": mail_type,
            "WebsiteURL": website_url,
            "ContactLanguage": "EN",
            "UseCaseDescription": description,
            "ProductionAccessEnabled": True,
        }
        if contacts:
            arguments["AdditionalContactEmailAddresses"] = contacts
        with translated():
            self.client.put_account_details(**arguments)
