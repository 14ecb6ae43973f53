"""Integrations into a team's tools: the MCP server for coding agents and the task exporters."""
