"""Pydantic models for spec sections: generated ones for any template, typed ones for tech-spec."""

from agent.schemas.base import SectionData
from agent.schemas.registry import apply_typed_models

__all__ = ["SectionData", "apply_typed_models"]
