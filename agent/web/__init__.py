"""The review page behind ``specdraft serve``: a local web app over the specs under some folders.

An entry point like the CLI and the MCP server: it reads specs with ``agent.specdoc``, lints them with
``agent.checks``, and changes them only through the code the CLI commands run (``agent.signoff.steps``
for review and approve, ``agent.specdoc.comments`` for comments). Starlette, uvicorn and watchfiles are
imported only when the command runs.
"""
