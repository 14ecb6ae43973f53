"""Hand-written models for the tech-spec sections where validation matters.

The model writes texts and picks from closed lists; code does what code does better (numbering
requirements, formatting endpoints, writing JSON), so a whole class of mistakes cannot be produced.
"""

from __future__ import annotations

import json
import re
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from agent.errors import ListItemError
from agent.specdoc.requirements import ID_SCHEMA_PATTERN, listed, split_covers
from agent.specdoc.schemas.base import SectionData, json_schema, schema_nodes
from agent.specdoc.schemas.generic import MAX_ITEM, Item, Text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 else str(int(value))


def _no_duplicates(values: list[str], what: str) -> list[str]:
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        norm = re.sub(r"\W+", " ", value.lower()).strip()
        if norm in seen:
            raise ListItemError(
                index, f"{what} {index + 1} repeats {what} {seen[norm] + 1}: {value!r}; write distinct items"
            )
        seen[norm] = index
    return values


# --- Technical Requirements ------------------------------------------------------------------------


class NfrCategory(str, Enum):
    performance = "performance"
    scalability = "scalability"
    security = "security"
    reliability = "reliability"
    availability = "availability"
    compatibility = "compatibility"
    usability = "usability"
    maintainability = "maintainability"
    privacy = "privacy"


class Comparator(str, Enum):
    lt = "<"
    le = "<="
    gt = ">"
    ge = ">="
    eq = "="


class Unit(str, Enum):
    ms = "ms"
    s = "s"
    minutes = "minutes"
    hours = "hours"
    days = "days"
    percent = "%"
    requests_per_second = "requests/s"
    requests_per_minute = "requests/min"
    users = "concurrent users"
    connections = "connections"
    items = "items"
    mb = "MB"
    gb = "GB"
    count_ = "count"  # not `count`: that would shadow str.count
    bits = "bits"
    versions = "versions"


class NonFunctionalRequirement(_Strict):
    category: NfrCategory
    metric: str = Field(
        min_length=3, max_length=120, description="What is measured, e.g. p95 latency of the API"
    )
    comparator: Comparator
    target: float = Field(ge=0, description="The number the metric must meet")
    unit: Unit
    condition: str = Field(default="", max_length=160, description="When the target applies; may be empty")

    def render(self) -> str:
        condition = f" {self.condition}" if self.condition else ""
        return (
            f"{self.category.value.capitalize()}: {self.metric} {self.comparator.value} "
            f"{_number(self.target)} {self.unit.value}{condition}"
        )


class TechnicalRequirements(SectionData):
    """Functional requirements (numbered FR-001.. by code), measurable NFRs, quality requirements."""

    GENERIC_KEYS = frozenset(
        {"functional_requirements", "non_functional_requirements", "quality_requirements"}
    )

    functional_requirements: list[Item] = Field(
        min_length=3, max_length=12, description="What the system must do, one behaviour per item"
    )
    non_functional_requirements: list[NonFunctionalRequirement] = Field(
        min_length=3,
        max_length=8,
        description="Measurable qualities: a metric, a comparator, a number and a unit",
    )
    quality_requirements: list[Item] = Field(
        min_length=2, max_length=6, description="Code quality, documentation, maintainability, usability"
    )

    @field_validator("functional_requirements", "quality_requirements")
    @classmethod
    def _distinct(cls, values: list[str]) -> list[str]:
        return _no_duplicates(values, "item")

    @field_validator("non_functional_requirements")
    @classmethod
    def _distinct_nfrs(cls, values: list[NonFunctionalRequirement]) -> list[NonFunctionalRequirement]:
        _no_duplicates([v.metric for v in values], "NFR metric")
        return values

    def render_data(self) -> dict[str, Any]:
        return {
            "functional_requirements": list(self.functional_requirements),
            "non_functional_requirements": [nfr.render() for nfr in self.non_functional_requirements],
            "quality_requirements": list(self.quality_requirements),
        }


# --- API Specifications ----------------------------------------------------------------------------


class HttpMethod(str, Enum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"
    HEAD = "HEAD"
    OPTIONS = "OPTIONS"


class JsonType(str, Enum):
    string = "string"
    number = "number"
    integer = "integer"
    boolean = "boolean"
    object = "object"
    array = "array"


PATH_PATTERN = r"^/[A-Za-z0-9_\-./{}:]*$"
IDENT_PATTERN = r"^[a-z][a-z0-9_]{0,40}$"


class EndpointChange(str, Enum):
    """Whether the spec adds an endpoint or changes one that exists (lint checks it against --context)."""

    NEW = "new"
    CHANGED = "changed"


class ApiEndpoint(_Strict):
    # One endpoint of the API section (agent.llm.providers.Endpoint is the model server). A comment, not a
    # docstring: a docstring would enter the schema sent to the model, which keeps the title "Endpoint".
    model_config = ConfigDict(title="Endpoint")

    method: HttpMethod
    path: str = Field(
        pattern=PATH_PATTERN, max_length=80, description="Starts with /, e.g. /api/v1/items/{id}"
    )
    change: EndpointChange = Field(description="new, or changed when the endpoint already exists")
    description: str = Field(min_length=3, max_length=80)


class SchemaField(_Strict):
    name: str = Field(pattern=IDENT_PATTERN, description="snake_case field name")
    type: JsonType
    required: bool


class Authentication(_Strict):
    method: Text = Field(description="e.g. JWT Bearer Token, API Key, OAuth 2.0")
    headers: Text = Field(description="Required headers for authentication")
    scopes: Text = Field(description="Required permissions/scopes")


def _distinct_names(values: list[SchemaField]) -> list[SchemaField]:
    _no_duplicates([v.name for v in values], "field")
    return values


class ApiSpecifications(SectionData):
    """Endpoints with closed HTTP methods and checked paths; request/response schemas rendered as JSON."""

    GENERIC_KEYS = frozenset({"endpoints", "request_response_schemas", "authentication"})

    endpoints: list[ApiEndpoint] = Field(min_length=1, max_length=12)
    request_fields: list[SchemaField] = Field(
        min_length=1, max_length=10, description="Body of the main request"
    )
    response_fields: list[SchemaField] = Field(
        min_length=1, max_length=10, description="Body of the response"
    )
    authentication: Authentication

    @field_validator("endpoints")
    @classmethod
    def _unique_endpoints(cls, values: list[ApiEndpoint]) -> list[ApiEndpoint]:
        seen = set()
        for endpoint in values:
            key = (endpoint.method, endpoint.path.rstrip("/"))
            if key in seen:
                raise ValueError(f"endpoint {endpoint.method.value} {endpoint.path} is listed twice")
            seen.add(key)
        return values

    _distinct_request = field_validator("request_fields")(_distinct_names)
    _distinct_response = field_validator("response_fields")(_distinct_names)

    def render_data(self) -> dict[str, Any]:
        width = max(len(e.path) for e in self.endpoints) + 2
        lines = [
            f"{e.method.value:<7}{e.path:<{width}}# ({e.change.value}) {e.description}"
            for e in self.endpoints
        ]

        def schema(fields: list[SchemaField]) -> dict[str, Any]:
            props = {f.name: {"type": f.type.value, "required": f.required} for f in fields}
            return {"type": "object", "properties": props}

        schemas = {
            "request_schema": schema(self.request_fields),
            "response_schema": schema(self.response_fields),
        }
        return {
            "endpoints": "\n".join(lines),
            "request_response_schemas": json.dumps(schemas, indent=2),
            "authentication": self.authentication.model_dump(mode="json"),
        }


# --- Database Design -------------------------------------------------------------------------------


class SqlType(str, Enum):
    UUID = "UUID"
    TEXT = "TEXT"
    VARCHAR = "VARCHAR(255)"
    INTEGER = "INTEGER"
    BIGINT = "BIGINT"
    BOOLEAN = "BOOLEAN"
    TIMESTAMPTZ = "TIMESTAMPTZ"
    DATE = "DATE"
    NUMERIC = "NUMERIC(12,2)"
    JSONB = "JSONB"
    BYTEA = "BYTEA"


class Column(_Strict):
    name: str = Field(pattern=IDENT_PATTERN)
    type: SqlType
    constraints: str = Field(default="", max_length=80, description="e.g. PRIMARY KEY, NOT NULL, UNIQUE")


class Table(_Strict):
    name: str = Field(pattern=IDENT_PATTERN, description="snake_case table name")
    purpose: str = Field(min_length=3, max_length=200)
    columns: list[Column] = Field(min_length=2, max_length=12)
    indexes: list[Annotated[str, Field(min_length=2, max_length=120)]] = Field(
        default_factory=list, max_length=6
    )
    relationships: str = Field(min_length=2, max_length=200, description="Foreign keys, or 'none'")

    @field_validator("columns")
    @classmethod
    def _distinct_columns(cls, values: list[Column]) -> list[Column]:
        _no_duplicates([c.name for c in values], "column")
        return values


class DataMigrationStrategy(_Strict):
    migration_scripts: Text = Field(description="Database migration approach")
    data_validation: Text = Field(description="How to validate migrated data")
    rollback_plan: Text = Field(description="How to rollback if migration fails")


class DatabaseDesign(SectionData):
    """Tables with typed columns; the diagram and migration strategy as text."""

    GENERIC_KEYS = frozenset(
        {"entity_relationship_diagram", "table_specifications", "data_migration_strategy"}
    )
    NON_PROSE_FIELDS = frozenset({"entity_relationship_diagram"})

    entity_relationship_diagram: str = Field(
        min_length=3, max_length=1200, description="ASCII diagram of tables and relationships"
    )
    table_specifications: list[Table] = Field(min_length=1, max_length=6)
    data_migration_strategy: DataMigrationStrategy

    @field_validator("table_specifications")
    @classmethod
    def _distinct_tables(cls, values: list[Table]) -> list[Table]:
        _no_duplicates([t.name for t in values], "table")
        return values

    def render_data(self) -> dict[str, Any]:
        tables = [
            {
                "table_name": t.name,
                "purpose": t.purpose,
                "columns": "; ".join(f"{c.name} {c.type.value} {c.constraints}".strip() for c in t.columns),
                "indexes": ", ".join(t.indexes) or "primary key only",
                "relationships": t.relationships,
            }
            for t in self.table_specifications
        ]
        return {
            "entity_relationship_diagram": self.entity_relationship_diagram,
            "table_specifications": tables,
            "data_migration_strategy": self.data_migration_strategy.model_dump(mode="json"),
        }


# --- Performance Specifications --------------------------------------------------------------------


class Target(_Strict):
    comparator: Comparator
    value: float = Field(ge=0)
    unit: Unit
    condition: str = Field(default="", max_length=120, description="When the figure holds")

    def render(self) -> str:
        condition = f" {self.condition}" if self.condition else ""
        return f"{self.comparator.value} {_number(self.value)} {self.unit.value}{condition}"


def _target(units: tuple[Unit, ...], what: str, when: str) -> type[Target]:
    """A Target whose unit can only be one that fits the figure (a user count is never in ms).

    ``when`` describes the condition for this kind of figure: one description shared by every target
    ("e.g. for the 95th percentile") made models write a percentile under memory and user counts too.
    """
    allowed = Literal[tuple(u.value for u in units)]  # type: ignore[valid-type]

    class Restricted(Target):
        unit: allowed = Field(description=f"Unit of {what}")  # type: ignore[valid-type]
        condition: str = Field(default="", max_length=120, description=when)

        def render(self) -> str:
            condition = f" {self.condition}" if self.condition else ""
            return f"{self.comparator.value} {_number(self.value)} {self.unit}{condition}"

    Restricted.__name__ = f"{what.title().replace(' ', '')}Target"
    return Restricted


TimeTarget = _target((Unit.ms, Unit.s, Unit.minutes), "time", "Percentile and load it holds at")
UserTarget = _target((Unit.users,), "users", "When this many are expected")
RateTarget = _target(
    (Unit.requests_per_second, Unit.requests_per_minute), "rate", "Sustained or peak, and for how long"
)
ConnectionTarget = _target((Unit.connections, Unit.count_), "connections", "Per instance or in total")
SizeTarget = _target((Unit.mb, Unit.gb), "size", "Per instance or in total, and at which load")
ShareTarget = _target((Unit.percent,), "share", "Of which resource, at which load")


class ResponseTimes(_Strict):
    api_endpoints: TimeTarget  # type: ignore[valid-type]
    page_load: TimeTarget  # type: ignore[valid-type]
    database_queries: TimeTarget  # type: ignore[valid-type]


class Throughput(_Strict):
    concurrent_users: UserTarget  # type: ignore[valid-type]
    requests_per_second: RateTarget  # type: ignore[valid-type]
    database_connections: ConnectionTarget  # type: ignore[valid-type]


class Resources(_Strict):
    memory_usage: SizeTarget  # type: ignore[valid-type]
    cpu_usage: ShareTarget  # type: ignore[valid-type]
    storage: SizeTarget  # type: ignore[valid-type]


class PerformanceSpecifications(SectionData):
    """Every performance figure is a comparator, a number and a unit: measurable by construction."""

    GENERIC_KEYS = frozenset(
        {"response_time_requirements", "throughput_requirements", "resource_requirements"}
    )

    response_time_requirements: ResponseTimes
    throughput_requirements: Throughput
    resource_requirements: Resources

    def render_data(self) -> dict[str, Any]:
        def targets(group: BaseModel) -> dict[str, str]:
            return {name: getattr(group, name).render() for name in type(group).model_fields}

        return {
            "response_time_requirements": targets(self.response_time_requirements),
            "throughput_requirements": targets(self.throughput_requirements),
            "resource_requirements": targets(self.resource_requirements),
        }


# --- Risk Assessment -------------------------------------------------------------------------------


class Risk(_Strict):
    risk: str = Field(min_length=3, max_length=300)
    mitigation: str = Field(min_length=3, max_length=300, description="How the risk is reduced or handled")

    @model_validator(mode="after")
    def _mitigation_differs(self) -> Risk:
        if self.mitigation.strip().lower() == self.risk.strip().lower():
            raise ValueError("the mitigation repeats the risk; say how the risk is reduced")
        return self


class RiskAssessment(SectionData):
    """Every risk comes with its mitigation."""

    GENERIC_KEYS = frozenset({"technical_risks", "mitigation_strategies"})
    AREAS: ClassVar[tuple[str, ...]] = ("performance", "security", "integration", "scalability")

    performance: Risk
    security: Risk
    integration: Risk
    scalability: Risk

    def render_data(self) -> dict[str, Any]:
        return {
            "technical_risks": {f"{area}_risks": getattr(self, area).risk for area in self.AREAS},
            "mitigation_strategies": {area: getattr(self, area).mitigation for area in self.AREAS},
        }


# --- Sections that cite requirements: testing, timeline, success criteria ---------------------------

#: the validation context key holding the spec's requirement IDs (ID -> text); see ``covering_context``
REQUIREMENT_IDS = "requirement_ids"
MAX_COVERS = 6

RequirementId = Annotated[str, Field(pattern=ID_SCHEMA_PATTERN, max_length=12)]


class CoveredItem(_Strict):
    """An item and the requirement IDs it tests, builds or measures."""

    text: str = Field(min_length=2, max_length=MAX_ITEM)
    covers: list[RequirementId] = Field(
        max_length=MAX_COVERS,
        description="IDs of the requirements this item tests, builds or measures, e.g. FR-001; [] if none",
    )

    @field_validator("covers")
    @classmethod
    def _distinct_ids(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))

    def render(self) -> str:
        """The text, then the cited IDs: ``Load test the API (FR-001, NFR-002)``."""
        return f"{self.text} ({', '.join(self.covers)})" if self.covers else self.text

    @classmethod
    def parse(cls, rendered: str) -> CoveredItem:
        """The item back from its rendered text (``render`` and ``parse`` round-trip)."""
        text, covers = split_covers(rendered)
        return cls(text=text, covers=covers)


def covering_context(requirement_ids: dict[str, str]) -> dict[str, Any]:
    """The pydantic validation context that checks ``covers`` against the spec's requirement IDs."""
    return {REQUIREMENT_IDS: dict(requirement_ids)}


def covering_schema(model: type[BaseModel], requirement_ids: dict[str, str]) -> dict[str, Any]:
    """``model``'s JSON schema with every ``covers`` item limited to the spec's requirement IDs.

    The server's grammar then cannot produce an ID the spec does not define (the bundled model invented
    ``NFR-015`` and ``FB-283`` often enough to cost a re-ask in one section out of three that cite).
    Validation still checks the IDs (:func:`covering_context`): other servers may ignore the schema.
    Without requirements (their section was marked) ``covers`` may hold nothing: a model given the bare
    ID pattern invented ``API-123`` for every item.
    """
    schema = json_schema(model)
    allowed = sorted(requirement_ids)
    for node in schema_nodes(schema):
        properties = node.get("properties")
        covers = properties.get("covers") if isinstance(properties, dict) else None
        if isinstance(covers, dict) and isinstance(covers.get("items"), dict):
            if allowed:
                covers["items"] = {"type": "string", "enum": allowed}
            else:
                covers["maxItems"] = 0
    return schema


class CoveringSection(SectionData):
    """A section whose items cite requirement IDs (``covers``).

    Validated with :func:`covering_context`, every cited ID must be one of the spec's requirements and
    at least one item must cite one; without a context only the ID pattern is checked.
    """

    def covered_items(self) -> list[tuple[str, CoveredItem]]:
        found: list[tuple[str, CoveredItem]] = []

        def walk(path: str, value: Any) -> None:
            if isinstance(value, CoveredItem):
                found.append((path, value))
            elif isinstance(value, BaseModel):
                for name in type(value).model_fields:
                    walk(f"{path}.{name}" if path else name, getattr(value, name))
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    walk(f"{path}.{index}", item)

        walk("", self)
        return found

    @model_validator(mode="after")
    def _known_requirements(self, info: ValidationInfo) -> CoveringSection:
        context = info.context if isinstance(info.context, dict) else {}
        known = context.get(REQUIREMENT_IDS)
        if not known:
            return self
        items = self.covered_items()
        for path, item in items:
            unknown = [rid for rid in item.covers if rid not in known]
            if unknown:
                raise ValueError(
                    f"{path}.covers cites {', '.join(unknown)}, which this spec does not define; "
                    f"cite only these requirement IDs: {listed(known)}"
                )
        if not any(item.covers for _, item in items):
            raise ValueError(
                "no item cites a requirement in covers; put the IDs of the requirements each item "
                f"tests, builds or measures in its covers ({listed(known)})"
            )
        return self

    def render_data(self) -> dict[str, Any]:
        def shape(value: Any) -> Any:
            if isinstance(value, CoveredItem):
                return value.render()
            if isinstance(value, BaseModel):
                return {name: shape(getattr(value, name)) for name in type(value).model_fields}
            if isinstance(value, list):
                return [shape(item) for item in value]
            return value

        return {name: shape(getattr(self, name)) for name in self.GENERIC_KEYS_ORDER}

    #: the generic keys in template order (``GENERIC_KEYS`` is a set)
    GENERIC_KEYS_ORDER: ClassVar[tuple[str, ...]] = ()


class UnitTesting(_Strict):
    coverage_target: CoveredItem
    testing_framework: CoveredItem
    mocking_strategy: CoveredItem
    test_data: CoveredItem


class IntegrationTesting(_Strict):
    api_testing: CoveredItem
    database_testing: CoveredItem
    external_service_testing: CoveredItem


class EndToEndTesting(_Strict):
    user_journey_testing: CoveredItem
    cross_browser_testing: CoveredItem
    performance_testing: CoveredItem


class TestingStrategy(CoveringSection):
    """Unit, integration and end-to-end testing; every item cites the requirements it verifies."""

    __test__ = False  # not a pytest class
    GENERIC_KEYS_ORDER = ("unit_testing", "integration_testing", "end_to_end_testing")
    GENERIC_KEYS = frozenset(GENERIC_KEYS_ORDER)

    unit_testing: UnitTesting
    integration_testing: IntegrationTesting
    end_to_end_testing: EndToEndTesting


def _covered_list(minimum: int, description: str) -> Any:
    return Field(min_length=minimum, max_length=10, description=description)


def _distinct_texts(values: list[CoveredItem]) -> list[CoveredItem]:
    _no_duplicates([v.text for v in values], "item")
    return values


class ImplementationTimeline(CoveringSection):
    """Four phases of tasks; every task cites the requirements it builds."""

    GENERIC_KEYS_ORDER = (
        "phase_1_foundation_week_1_2",
        "phase_2_core_features_week_3_4",
        "phase_3_integration_week_5_6",
        "phase_4_deployment_week_7_8",
    )
    GENERIC_KEYS = frozenset(GENERIC_KEYS_ORDER)

    phase_1_foundation_week_1_2: list[CoveredItem] = _covered_list(2, "Tasks of phase 1: foundation")
    phase_2_core_features_week_3_4: list[CoveredItem] = _covered_list(2, "Tasks of phase 2: core features")
    phase_3_integration_week_5_6: list[CoveredItem] = _covered_list(2, "Tasks of phase 3: integration")
    phase_4_deployment_week_7_8: list[CoveredItem] = _covered_list(2, "Tasks of phase 4: deployment")

    _distinct = field_validator(*GENERIC_KEYS_ORDER)(_distinct_texts)


class SuccessCriteria(CoveringSection):
    """Technical and business success criteria; each cites the requirements it measures."""

    GENERIC_KEYS_ORDER = ("technical_success", "business_success")
    GENERIC_KEYS = frozenset(GENERIC_KEYS_ORDER)

    technical_success: list[CoveredItem] = _covered_list(2, "Measurable technical success criteria")
    business_success: list[CoveredItem] = _covered_list(2, "Measurable business success criteria")

    _distinct = field_validator(*GENERIC_KEYS_ORDER)(_distinct_texts)


TYPED_SECTIONS: dict[str, type[SectionData]] = {
    "technical_requirements": TechnicalRequirements,
    "api_specifications": ApiSpecifications,
    "database_design": DatabaseDesign,
    "performance_specifications": PerformanceSpecifications,
    "risk_assessment": RiskAssessment,
    "testing_strategy": TestingStrategy,
    "implementation_timeline": ImplementationTimeline,
    "success_criteria": SuccessCriteria,
}
