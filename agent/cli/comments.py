"""``specdraft comments``: the review comments on a spec (written by the review page, or ``--add``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from agent.cli.app import app, user_errors
from agent.cli.options import JsonOpt, ReopenByOpt, SpecArg
from agent.errors import InputError
from agent.io.sanitize import for_terminal
from agent.signoff.identity import reopener
from agent.specdoc.comments import Comment, CommentStore
from agent.specdoc.document import load_spec


def comment_line(comment: Comment) -> str:
    """``#3 [Overview, line 12] Ana Lima (2026-12-06T01:00:00Z): text`` (one line, terminal-safe)."""
    state = "" if comment.is_open else f" (resolved by {comment.resolved_by})"
    text = " ".join(comment.text.split())
    return for_terminal(f"#{comment.id} [{comment.anchor()}] {comment.by} ({comment.at}){state}: {text}")


@app.command("comments")
def comments_command(
    spec: SpecArg,
    show_all: Annotated[bool, typer.Option("--all", help="Also list resolved comments.")] = False,
    add: Annotated[str | None, typer.Option("--add", help="Add a comment with this text.")] = None,
    section: Annotated[
        str | None, typer.Option("--section", help="With --add: the ## section it is about.")
    ] = None,
    line: Annotated[int | None, typer.Option("--line", help="With --add: the line it points at.")] = None,
    resolve: Annotated[
        int | None, typer.Option("--resolve", help="Mark comment N resolved.", metavar="N")
    ] = None,
    by: ReopenByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the open review comments on SPEC (kept in SPEC.comments.jsonl beside it).

    `specdraft refine SPEC --comment N` asks the model to address comment N and resolves it once applied;
    `chat` lists the open ones when it starts.
    """
    with user_errors():
        store = CommentStore(spec)
        doc = load_spec(spec)  # a spec it is, before anything is added to its comments
        who = reopener(by, spec.resolve().parent) if add is not None or resolve is not None else ""
        if add is not None:
            added = store.add(doc, add, by=who, section=section, line=line)
            typer.echo(f"Added comment {added.id} on {added.anchor()}.", err=True)
        elif section is not None or line is not None:
            raise InputError(
                "--section and --line go with --add.", hint='e.g. --add "..." --section Overview'
            )
        if resolve is not None:
            store.resolve(resolve, by=who)
            typer.echo(f"Resolved comment {resolve}.", err=True)
        comments = store.load() if show_all else store.open_comments()
        if as_json:
            data = {
                "schema": "specdraft.comments/1",
                "path": str(spec),
                "comments": [c.to_dict() for c in comments],
            }
            typer.echo(json.dumps(data, indent=2))
            return
        if not comments:
            typer.echo(f"{spec}: no {'' if show_all else 'open '}comments.")
        for comment in comments:
            typer.echo(comment_line(comment))
