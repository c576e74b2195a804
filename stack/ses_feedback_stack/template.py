"""template.yaml as data: the one source of truth for local resources and function settings.

Local mode and the tests create their tables, topics and queues from the template's own
properties and give the handlers the environment the template gives them, so neither can
drift from what `sam deploy` creates.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
# The stream catalogue ships with UnsubscribeFunction, whose page reads it (docs/sending.md).
STREAM_CATALOGUE_PATH = REPO_ROOT / "functions" / "unsubscribe" / "streams.json"

_SHORT_FUNCTIONS = {"Ref", "Condition"}


# libyaml's parser when PyYAML was built with it (six times faster), else the pure-Python one.
try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _CfnLoader(_SafeLoader):
    """YAML with CloudFormation's short intrinsic forms (!Ref, !GetAtt, !Sub, !If …)."""


def _construct_intrinsic(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = tag_suffix if tag_suffix in _SHORT_FUNCTIONS else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_intrinsic)  # type: ignore[no-untyped-call]


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as data: a fresh copy each call (callers may change it), parsed once per version."""
    stat = path.stat()
    return copy.deepcopy(_parse_template(path, stat.st_mtime_ns, stat.st_size))


@functools.cache
def _parse_template(path: Path, _mtime_ns: int, _size: int) -> dict[str, Any]:
    with path.open() as handle:
        document = yaml.load(handle, Loader=_CfnLoader)
    if not isinstance(document, dict):
        raise ValueError(f"{path} is not a CloudFormation template")
    return document


class _NoValue:
    """``!Ref AWS::NoValue``: the list item or property it stands for is left out."""


NO_VALUE = _NoValue()


@dataclass
class Resolver:
    """Resolves the intrinsic functions local mode needs against parameters and created resources.

    ``refs`` maps a logical ID to what ``!Ref`` returns for it (table name, topic ARN, queue
    URL …); ``attributes`` maps ``(logical ID, attribute)`` to what ``!GetAtt`` returns.
    """

    template: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    region: str = "us-east-1"
    account_id: str = "123456789012"
    stack_name: str = "ses-feedback-local"

    def parameter(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        definition = self.template.get("Parameters", {}).get(name)
        if definition is None:
            raise KeyError(f"unknown parameter {name}")
        return str(definition.get("Default", ""))

    def condition(self, name: str) -> bool:
        """A condition of the template's ``Conditions``, evaluated against the parameters."""
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            resolved = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        ((name, argument),) = value.items()
        handler = getattr(self, "_fn_" + name.replace("Fn::", "").replace("::", "_").lower(), None)
        if handler is None:
            return {name: self.resolve(argument)}
        return handler(argument)

    def _fn_ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.refs:
            return self.refs[name]
        return self.parameter(name)

    def _fn_getatt(self, argument: list[str]) -> str:
        key = (argument[0], argument[1])
        if key not in self.attributes:
            raise KeyError(f"{argument[0]}.{argument[1]} is not known locally")
        return self.attributes[key]

    def _fn_if(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_equals(self, argument: list[Any]) -> bool:
        left, right = (self.resolve(a) for a in argument)
        return bool(str(left) == str(right))

    def _fn_not(self, argument: list[Any]) -> bool:
        return not self.resolve(argument[0])

    def _fn_and(self, argument: list[Any]) -> bool:
        return all(self.resolve(a) for a in argument)

    def _fn_or(self, argument: list[Any]) -> bool:
        return any(self.resolve(a) for a in argument)

    def _fn_condition(self, name: str) -> bool:
        return self.condition(name)

    def _fn_sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        result = str(text)
        for name, replacement in variables.items():
            result = result.replace("${" + name + "}", str(self.resolve(replacement)))
        while "${" in result:
            start = result.index("${")
            end = result.index("}", start)
            token = result[start + 2 : end]
            value = self._fn_getatt(token.split(".", 1)) if "." in token else str(self._fn_ref(token))
            result = result[:start] + value + result[end + 1 :]
        return result

    def _fn_join(self, argument: list[Any]) -> str:
        separator, items = argument
        return str(separator).join(str(i) for i in self.resolve(items))

    def _fn_split(self, argument: list[Any]) -> list[str]:
        separator, text = argument
        return str(self.resolve(text)).split(str(separator))

    def _fn_select(self, argument: list[Any]) -> Any:
        index, items = argument
        return self.resolve(items)[int(self.resolve(index))]


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of_type(template, "AWS::Serverless::Function")


def function_environment(resolver: Resolver, logical_id: str) -> dict[str, str]:
    """The environment the template gives a function: Globals first, the function's own on top."""
    template = resolver.template
    global_vars = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own_vars = template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    return {name: str(resolver.resolve(value)) for name, value in {**global_vars, **own_vars}.items()}


def environment_variable_names(template: dict[str, Any], logical_id: str) -> set[str]:
    global_vars = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own_vars = template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    return set(global_vars) | set(own_vars)


def function_source(template: dict[str, Any], logical_id: str) -> tuple[Path, str, str]:
    """(code folder, module name, handler function) from CodeUri and Handler."""
    properties = template["Resources"][logical_id]["Properties"]
    module, _, function = properties["Handler"].rpartition(".")
    return REPO_ROOT / properties["CodeUri"], module, function


def function_limits(template: dict[str, Any], logical_id: str) -> tuple[float, int]:
    """(timeout seconds, memory MB) of a function: its own, else Globals', else Lambda's defaults."""
    properties = template["Resources"][logical_id]["Properties"]
    globals_ = template.get("Globals", {}).get("Function", {})
    timeout = float(properties.get("Timeout", globals_.get("Timeout", 3)))
    memory = int(properties.get("MemorySize", globals_.get("MemorySize", 128)))
    return timeout, memory
