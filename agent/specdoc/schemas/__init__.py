"""Pydantic models for spec sections: generated ones for any template (``generic``), typed ones for
tech-spec (``techspec``), and the ``registry`` that swaps typed models in where a layout matches."""
