"""``python -m agent``: the same entry point as the ``specdraft`` command."""

from agent.cli.main import main

main()
