"""The template's parameter defaults are the settings' defaults.

A parameter reaches a function as an environment variable (``!Ref Param``) that a ``Settings``
field reads; both carry a default, the template's for ``sam deploy`` and the settings' for
local mode, the CLI and the tests. They must say the same: each template default, read as
the function reads it, gives the settings' default.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic_core import PydanticUndefined
from ses_feedback.settings import Settings
from ses_feedback_stack.template import functions, load_template

TEMPLATE = load_template()
_BY_VARIABLE = {field.alias: name for name, field in Settings.model_fields.items() if field.alias}


def _environments() -> list[dict[str, Any]]:
    globals_ = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    own = [f["Properties"].get("Environment", {}).get("Variables", {}) for f in functions(TEMPLATE).values()]
    return [globals_, *own]


def parameters_with_settings_defaults() -> dict[str, tuple[str, str]]:
    """Parameter → (its environment variable, the settings field with a default that reads it)."""
    found: dict[str, tuple[str, str]] = {}
    for variables in _environments():
        for variable, value in variables.items():
            name = _BY_VARIABLE.get(variable)
            if name is None or Settings.model_fields[name].default is PydanticUndefined:
                continue
            if isinstance(value, dict) and value.get("Ref") in TEMPLATE["Parameters"]:
                found[value["Ref"]] = (variable, name)
    return found


PAIRS = parameters_with_settings_defaults()


def test_the_pairs_found_include_the_policy_numbers_and_the_dmarc_retention() -> None:
    # The search below must not come back empty (a renamed variable would hide a drift).
    assert {
        "SoftBounceThreshold",
        "SoftBounceWindowDays",
        "SoftBounceSuppressionDays",
        "HistoryRetentionDays",
        "DmarcReportRetentionDays",
        "TransactionalStreams",
        "SendingGuard",
        "IdempotencyWindowHours",
    } <= set(PAIRS)


@pytest.mark.parametrize("parameter", sorted(PAIRS))
def test_a_parameters_default_is_its_settings_default(parameter: str) -> None:
    variable, field = PAIRS[parameter]
    declared = TEMPLATE["Parameters"][parameter]
    assert "Default" in declared, f"{parameter} has a settings default; give the template the same one"
    # When: the function reads the template's default (CloudFormation passes every value as text)
    read = Settings.from_env({"SUPPRESSION_TABLE": "table", variable: str(declared["Default"])})
    # Then: it is what the settings give when the variable is not set
    assert getattr(read, field) == Settings.default(field)
