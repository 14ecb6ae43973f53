"""Deterministic checks of a spec (lint), below drafting and signoff, which both use them; no model."""
