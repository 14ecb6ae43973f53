"""specdraft: draft technical specifications from a feature brief with a language model."""

__version__ = "0.1.0"
