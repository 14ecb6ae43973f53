"""The ``specdraft`` command line: a thin typer layer over the importable core (see ``agent.cli.main``)."""
