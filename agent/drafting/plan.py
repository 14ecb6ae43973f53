"""The order sections are drafted in: a dependency graph, so independent sections run concurrently."""

from __future__ import annotations

from agent.spec.template import SpecTemplate

# For the tech-spec sections: what each one should see before it is written. Any section not
# listed (and every section of other templates) depends on the first section only.
TECH_SPEC_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "testing_strategy": ("technical_requirements",),
    "implementation_timeline": ("technical_requirements",),
    "success_criteria": ("technical_requirements", "performance_specifications"),
    "notes": ("technology_stack", "risk_assessment"),
    "dependencies": ("technology_stack",),
}


def dependencies(template: SpecTemplate) -> dict[str, tuple[str, ...]]:
    """Map each section key to the keys it waits for (always acyclic: only earlier sections)."""
    keys = [section.key for section in template.sections]
    root = keys[0]
    graph: dict[str, tuple[str, ...]] = {root: ()}
    for position, key in enumerate(keys[1:], start=1):
        earlier = set(keys[:position])
        wanted = tuple(dep for dep in TECH_SPEC_DEPENDENCIES.get(key, ()) if dep in earlier)
        graph[key] = tuple(dict.fromkeys((root, *wanted)))
    return graph


def waves(template: SpecTemplate) -> list[list[str]]:
    """Sections grouped so that each group only needs earlier groups (the order of --parallel 1)."""
    graph = dependencies(template)
    done: set[str] = set()
    result: list[list[str]] = []
    remaining = [section.key for section in template.sections]
    while remaining:
        ready = [key for key in remaining if set(graph[key]) <= done]
        result.append(ready)
        done.update(ready)
        remaining = [key for key in remaining if key not in done]
    return result
