"""The home and the replica form of template.yaml, as data: each ``!If`` on a form's conditions
taken, each ``AWS::NoValue`` it leaves dropped (docs/deploy.md, "Several regions")."""

from __future__ import annotations

from typing import Any

NO_VALUE = {"Ref": "AWS::NoValue"}
# The home form with no replica region: what a stack deployed before regions existed gets.
HOME = {"IsHome": True, "IsReplica": False, **{f"HasReplicaRegion{n}": False for n in range(1, 5)}}
REPLICA = {**HOME, "IsHome": False, "IsReplica": True}


def home_with_replicas(count: int) -> dict[str, bool]:
    return {**HOME, **{f"HasReplicaRegion{n}": n <= count for n in range(1, 5)}}


def choose(value: Any, conditions: dict[str, bool]) -> Any:
    """``value`` with every ``Fn::If`` on one of ``conditions`` decided (others kept as they are)."""
    if isinstance(value, list):
        chosen = [choose(item, conditions) for item in value]
        return [item for item in chosen if item != NO_VALUE]
    if not isinstance(value, dict):
        return value
    if list(value) == ["Fn::If"]:
        name, when_true, when_false = value["Fn::If"]
        if name in conditions:
            return choose(when_true if conditions[name] else when_false, conditions)
        return {"Fn::If": [name, choose(when_true, conditions), choose(when_false, conditions)]}
    return {
        key: choose(item, conditions) for key, item in value.items() if choose(item, conditions) != NO_VALUE
    }


def resources(template: dict[str, Any], conditions: dict[str, bool]) -> dict[str, dict[str, Any]]:
    """The resources a form creates (a resource's Condition decided), their properties chosen."""
    return {
        logical_id: choose(resource, conditions)
        for logical_id, resource in template["Resources"].items()
        if conditions.get(resource.get("Condition", ""), True)
    }
