"""The order sections are drafted in: a dependency graph, so independent sections run concurrently.

Every section prompt already carries the whole brief and the outline (the shared prefix), so a section
waits for another one only where it must stay consistent with what that one decided. The first section
(the tech spec's Overview: "what are we building?") restates the brief; waiting for it would keep every
other slot idle while it is drafted, so the tech-spec sections listed in :data:`BRIEF_SUFFICES` start at
once from the brief alone (a speculative start: the Overview cannot change their input, the brief). The
sections that wait for other sections anyway also see the Overview's digest (it is done long before).

Ready sections are started longest critical path first (:func:`critical_path`): the chains that
decide the draft's end (Technical Requirements, then Implementation Timeline) start first and the tail,
where one long section runs alone, stays short.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.specdoc.schemas.covering import defines_requirements
from agent.specdoc.schemas.techspec import CoveringSection
from agent.specdoc.template import SpecTemplate

# For the tech-spec sections: what each one should see before it is written. Any section not
# listed here or in BRIEF_SUFFICES (and every section of other templates) depends on the first section.
TECH_SPEC_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "testing_strategy": ("technical_requirements",),
    "implementation_timeline": ("technical_requirements",),
    "success_criteria": ("technical_requirements", "performance_specifications"),
    "notes": ("technology_stack", "risk_assessment"),
    "dependencies": ("technology_stack",),
}

# Tech-spec sections that do not wait for the Overview, each with the reason its prompt does not need
# the Overview's text. Templates other than the tech spec keep the conservative rule (all wait).
BRIEF_SUFFICES: dict[str, str] = {
    "system_architecture": "components follow from the brief's feature and technologies",
    "technical_requirements": "requirements are taken from the brief; the Overview only restates it",
    "technology_stack": "technologies are named in the brief or chosen for it",
    "api_specifications": "endpoints follow from the brief's user actions",
    "database_design": "tables follow from the brief's entities",
    "security_specifications": "threats and controls follow from the brief's feature",
    "performance_specifications": "targets come from the brief's numbers",
    "scalability_design": "load and growth come from the brief",
    "integration_specifications": "integrations are named in the brief",
    "deployment_specifications": "deployment follows from the brief's stack",
    "monitoring_and_observability": "metrics follow from the brief's feature",
    "risk_assessment": "risks follow from the brief's feature",
}


def dependencies(template: SpecTemplate) -> dict[str, tuple[str, ...]]:
    """Map each section key to the keys it waits for (always acyclic: only earlier sections).

    A section whose items cite requirements waits for the sections that define them, in any template
    (its prompt lists their IDs): a translated template's tests wait for its requirements as the tech
    spec's do."""
    keys = [section.key for section in template.sections]
    defining = [section.key for section in template.sections if defines_requirements(section)]
    citing = {section.key for section in template.sections if issubclass(section.model, CoveringSection)}
    root = keys[0]
    tech_spec = root == "overview" and "technical_requirements" in keys
    graph: dict[str, tuple[str, ...]] = {root: ()}
    for position, key in enumerate(keys[1:], start=1):
        earlier = set(keys[:position])
        wanted = tuple(dep for dep in TECH_SPEC_DEPENDENCIES.get(key, ()) if dep in earlier)
        if key in citing:
            wanted += tuple(dep for dep in defining if dep in earlier)
        if tech_spec and key in BRIEF_SUFFICES and not wanted:
            graph[key] = ()
        else:
            graph[key] = tuple(dict.fromkeys((root, *wanted)))
    return graph


def critical_path(graph: dict[str, tuple[str, ...]], weight: Callable[[str], int]) -> dict[str, int]:
    """Per section, the heaviest chain from it to the end of the draft: its own weight plus the heaviest
    chain among the sections that wait for it. Started highest first, the draft's tail stays short."""
    waiting: dict[str, list[str]] = {key: [] for key in graph}
    for key, deps in graph.items():
        for dep in deps:
            waiting[dep].append(key)
    memo: dict[str, int] = {}

    def chain(key: str) -> int:
        if key not in memo:
            memo[key] = weight(key) + max((chain(after) for after in waiting[key]), default=0)
        return memo[key]

    return {key: chain(key) for key in graph}
