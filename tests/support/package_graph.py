"""The package diagram in docs/architecture.md, generated from the imports themselves.

grimp (import-linter's own graph builder) reads the import graph of the root packages that
``[tool.importlinter]`` names in pyproject.toml. Modules are grouped into packages: the
domain (``ses_feedback``) by its second level (``ses_feedback.usecases``,
``ses_feedback.wiring`` …), every other root package as one node (``functions.sender.app``
→ ``functions``), and the AWS SDK as one node. An arrow means "imports". The output is a
Mermaid block, sorted, so the same code always gives the same text.

    python -m tests.support.package_graph           # print the block
    python -m tests.support.package_graph --write   # put it between the markers (make docs-graph)
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
START = "<!-- package-graph:start (make docs-graph writes this block) -->"
END = "<!-- package-graph:end -->"
REGENERATE = "make docs-graph"

# The root packages whose second level is drawn: the domain, whose floors are the point.
EXPANDED = frozenset({"ses_feedback"})
# External packages worth a node: who talks to AWS, and who plays it.
EXTERNAL = {"boto3": "boto3", "botocore": "boto3", "moto": "moto"}
EXTERNAL_LABELS = {"boto3": "boto3 / botocore (AWS SDK)", "moto": "moto (the emulated AWS)"}


def root_packages() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["importlinter"]["root_packages"])


def group_of(module: str, roots: frozenset[str]) -> str | None:
    """The diagram's node for ``module``, or None when it is not drawn."""
    parts = module.split(".")
    if parts[0] in roots:
        return ".".join(parts[:2]) if parts[0] in EXPANDED and len(parts) > 1 else parts[0]
    return EXTERNAL.get(parts[0])


def edges(roots: list[str]) -> set[tuple[str, str]]:
    graph = grimp.build_graph(*roots, include_external_packages=True, cache_dir=None)
    inside = frozenset(roots)
    found = set()
    for module in graph.modules:
        source = group_of(module, inside)
        if source is None or source in EXTERNAL.values():
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            target = group_of(imported, inside)
            if target is not None and target != source:
                found.add((source, target))
    return found


def _node_id(name: str) -> str:
    return name.replace(".", "_")


def _label(name: str) -> str:
    return EXTERNAL_LABELS.get(name, name)


def mermaid(roots: list[str]) -> str:
    arrows = sorted(edges(roots))
    nodes = sorted({name for arrow in arrows for name in arrow})
    lines = ["```mermaid", "graph TD"]
    for root in sorted(EXPANDED & set(roots)):
        lines.append(f'  subgraph {_node_id(root)}_layer["{root} (the domain, a Lambda layer)"]')
        lines += [f'    {_node_id(n)}["{n}"]' for n in nodes if n.startswith(f"{root}.")]
        lines.append("  end")
    lines += [
        f'  {_node_id(n)}["{_label(n)}"]'
        for n in nodes
        if not any(n.startswith(f"{root}.") for root in EXPANDED)
    ]
    lines += [f"  {_node_id(a)} --> {_node_id(b)}" for a, b in arrows]
    lines.append("```")
    return "\n".join(lines)


def block() -> str:
    return f"{START}\n{mermaid(root_packages())}\n{END}"


def documented(text: str) -> str:
    """The block between the markers in ``text`` (markers included)."""
    start, end = text.index(START), text.index(END) + len(END)
    return text[start:end]


def write(path: Path = DOC) -> None:
    text = path.read_text()
    path.write_text(text.replace(documented(text), block()))


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        print(block())
