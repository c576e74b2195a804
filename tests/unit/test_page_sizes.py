"""One table of page sizes (``parsing/operator_input.py``), and every door reads it: the API's
query parameters (its OpenAPI document), the CLI's options and the use cases' own defaults."""

from __future__ import annotations

import argparse
import inspect
import json
from importlib import resources
from typing import Any

import pytest
from ses_feedback.errors import InvalidRequest
from ses_feedback.parsing.operator_input import ADDRESSES, EXPORT, HISTORY, RECENT_HISTORY, PageSize
from ses_feedback.usecases.admin import SuppressionAdmin
from ses_feedback_cli.main import build_parser

# (the API's route and parameter, the CLI's subcommand and option, the use case and its parameter)
DOORS = [
    (ADDRESSES, "/suppressions", "limit", "list", "--limit", "list_suppressed", "limit"),
    (ADDRESSES, "/suppressions", "limit", "list", "--limit", "list_on_stream", "limit"),
    (HISTORY, "/suppressions/{address}/events", "limit", "history", "--limit", "history", "limit"),
    (RECENT_HISTORY, "/suppressions/{address}", "history", "get", "--history", "get", "history_limit"),
    (EXPORT, None, None, "export", "--page-size", "iter_suppressed", "page_size"),
    (EXPORT, None, None, "export", "--page-size", "iter_on_stream", "page_size"),
]


def _cli_option(subcommand: str, option: str) -> argparse.Action:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    suppressions = commands.choices["suppressions"]
    sub = next(a for a in suppressions._actions if isinstance(a, argparse._SubParsersAction))
    return next(a for a in sub.choices[subcommand]._actions if option in a.option_strings)


def _api_parameter(route: str, name: str) -> dict[str, Any]:
    document = json.loads(resources.files("ses_feedback").joinpath("openapi.json").read_text())
    parameters = document["paths"][route]["get"]["parameters"]
    schema: dict[str, Any] = next(p["schema"] for p in parameters if p["name"] == name)
    return schema


@pytest.mark.parametrize(("size", "route", "parameter", "subcommand", "option", "method", "argument"), DOORS)
def test_every_door_takes_its_default_and_its_most_from_the_table(
    size: PageSize,
    route: str | None,
    parameter: str | None,
    subcommand: str,
    option: str,
    method: str,
    argument: str,
) -> None:
    if route is not None and parameter is not None:
        schema = _api_parameter(route, parameter)
        assert (schema["default"], schema["maximum"]) == (size.default, size.most)
    action = _cli_option(subcommand, option)
    assert action.default == size.default
    assert action.type is not None
    assert action.type(str(size.most)) == size.most
    with pytest.raises(argparse.ArgumentTypeError):
        action.type(str(size.most + 1))
    assert inspect.signature(getattr(SuppressionAdmin, method)).parameters[argument].default == size.default


@pytest.mark.parametrize("size", [ADDRESSES, HISTORY, RECENT_HISTORY, EXPORT])
def test_the_use_cases_refuse_a_size_beyond_the_table_naming_the_parameter(size: PageSize) -> None:
    assert size.clean(size.most) == size.most
    for wrong in (0, size.most + 1):
        with pytest.raises(InvalidRequest, match=rf"^{size.field}: must be between 1 and {size.most}$"):
            size.clean(wrong)
