"""``specdraft lint``, ``review``, ``approve``, ``reopen``, ``verify`` and ``status``: review and sign-off.

Exit codes: 0 ok; 1 lint errors (warnings too with --strict), a refused step, or an approval that no
longer holds; 2 bad input (nothing written).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.checks.lint import Finding, count_errors, failed, lint_document, lint_path, summary_line
from agent.cli.app import app, user_errors
from agent.cli.options import CheckBriefOpt, CheckTemplateOpt, JsonOpt, ReopenByOpt, SpecArg
from agent.context.known import context_entries
from agent.errors import EXIT_USAGE, InputError, LifecycleError, SpecdraftError
from agent.io.atomic import atomic_write_text
from agent.io.markdown_walk import markdown_files
from agent.io.sanitize import for_terminal
from agent.signoff.drift import DriftReport, check_drift
from agent.signoff.identity import reopener, resolve_person
from agent.signoff.records import approvals_required, read_signoffs
from agent.signoff.steps import approve_file, review_file
from agent.signoff.transitions import reopen
from agent.signoff.verification import ApprovalCheck, VerifyReport, is_approved, verify
from agent.specdoc.document import SpecDocument, load_spec
from agent.specdoc.grounding import BriefFacts, extract
from agent.specdoc.lifecycle import Status, current_status
from agent.specdoc.template_resolver import (
    TemplateOutline,
    read_template_outline,
    resolve_template_path,
    spec_outline,
    template_changed,
)


def brief_facts(spec: Path, doc: SpecDocument, brief: Path | None) -> BriefFacts | None:
    """Facts of ``brief``, else of the brief the spec records; None when there is none to read."""
    # drafting is imported here, not at module level: it would slow every command's start
    from agent.drafting.brief import Brief, load_brief, recorded_brief

    if brief is not None:
        loaded: Brief | None = load_brief(brief)
    else:
        loaded, notice = recorded_brief(spec, doc)
        if loaded is None and notice:
            # say why the brief's rules (off-topic, brief-uncovered) did not run, rather than go quiet
            typer.echo(f"{spec}: {notice}", err=True)
    return None if loaded is None else extract(loaded.body, loaded.title)


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _load(path: Path, template: str | None) -> tuple[SpecDocument, TemplateOutline, list[Finding]]:
    return lint_path(path, template)


def _findings_table(findings: list[Finding], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    table.add_column("Line", justify="right", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Rule", no_wrap=True)
    table.add_column("Section")
    table.add_column("Message")
    for f in findings:
        style = "red" if f.severity == "error" else "yellow"
        table.add_row(
            str(f.line),
            f"[{style}]{f.severity}[/]",
            f.rule,
            escape(for_terminal(f.section or "-")),
            escape(for_terminal(f.message)),
        )
    return table


# -- lint -------------------------------------------------------------------------------------------


def _spec_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in markdown_files(path) if p.is_file())
            if not found:
                raise InputError(f"Directory '{path}' holds no .md files.")
            files += found
        else:
            files.append(path)
    return files


@app.command("lint")
def lint_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Spec files, or directories of them (every *.md inside).")
    ],
    template: CheckTemplateOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail (exit 1) on warnings too.")] = False,
    as_json: JsonOpt = False,
    brief: CheckBriefOpt = None,
) -> None:
    """Check specs against their template without a model: sections, placeholders, IDs, NFRs, endpoints.

    With a brief (--brief, or the one recorded in the spec's front matter) also off-topic and
    brief-uncovered.

    Exit 0 clean, 1 errors (or warnings with --strict), 2 bad input.
    """
    with user_errors():
        outline = read_template_outline(resolve_template_path(template)) if template else None
        results: list[dict[str, Any]] = []
        console = _console()
        bad_input = any_failed = False
        noted: set[str] = set()  # languages whose unjudged smell rules were already said
        for path in _spec_files(paths):
            try:
                doc = load_spec(path)
                used = outline or spec_outline(None, doc, path)
                if outline is None and (notice := template_changed(doc, used)):
                    typer.echo(f"{path}: {notice}", err=True)
                _note_smell_language(doc, noted)
                findings = lint_document(doc, used, brief=brief_facts(path, doc, brief), base=path.parent)
            except SpecdraftError as exc:
                bad_input = True
                results.append({"path": str(path), "error": str(exc)})
                if not as_json:
                    typer.echo(for_terminal(f"Error: {exc}"), err=True)
                continue
            any_failed = any_failed or failed(findings, strict=strict)
            results.append(_lint_entry(path, used, findings))
            if not as_json:
                if findings:
                    console.print(_findings_table(findings, title=str(path)))
                console.print(f"{escape(str(path))}: {escape(summary_line(findings))}")
        code = EXIT_USAGE if bad_input else (1 if any_failed else 0)
        if as_json:
            typer.echo(json.dumps(_lint_json(results, strict, code), indent=2, ensure_ascii=False))
        elif len(results) > 1:
            errors = sum(r.get("errors", 0) for r in results)
            warnings = sum(r.get("warnings", 0) for r in results)
            console.print(f"{len(results)} files: {errors} error(s), {warnings} warning(s)")
        if code:
            raise typer.Exit(code)


def _note_smell_language(doc: SpecDocument, noted: set[str]) -> None:
    """Say once per run, on stderr, when the smell rules cannot judge a spec's language."""
    from agent.specdoc.language import spec_language
    from agent.specdoc.smell_lexicons import smell_notice

    language = spec_language(doc.front_matter, doc.body)
    if language not in noted and (notice := smell_notice(language)):
        noted.add(language)
        typer.echo(f"note: {notice}", err=True)


def _lint_entry(path: Path, outline: TemplateOutline, findings: list[Finding]) -> dict[str, Any]:
    errors, warnings = count_errors(findings)
    return {
        "path": str(path),
        "template": outline.name,
        "errors": errors,
        "warnings": warnings,
        "needs_attention": sum(1 for f in findings if f.rule == "needs-attention"),
        "needs_clarification": sum(1 for f in findings if f.rule == "needs-clarification"),
        "findings": [f.to_dict() for f in findings],
        "error": None,
    }


def _lint_json(results: list[dict[str, Any]], strict: bool, code: int) -> dict[str, Any]:
    return {
        "schema": "specdraft.lint/1",
        "strict": strict,
        "exit_code": code,
        "totals": {
            "files": len(results),
            "errors": sum(r.get("errors", 0) for r in results),
            "warnings": sum(r.get("warnings", 0) for r in results),
            "bad_input": sum(1 for r in results if r.get("error")),
        },
        "files": results,
    }


# -- review / approve -------------------------------------------------------------------------------


@app.command("review")
def review_command(spec: SpecArg, template: CheckTemplateOpt = None) -> None:
    """Move a spec from DRAFT to REVIEW; refused (exit 1) while lint reports errors."""
    with user_errors():
        try:
            result = review_file(spec, template=template)
        except LifecycleError:
            _, _, findings = _load(spec, template)
            errors = [f for f in findings if f.severity == "error"]
            if errors:
                _console().print(_findings_table(errors, title=f"{spec}: lint errors"))
            raise
        if not result.written:
            typer.echo(f"{spec} is already in REVIEW.")
            return
        typer.echo(f"{spec}: {result.previous_status} -> REVIEW ({summary_line(result.findings)})")


@app.command("approve")
def approve_command(
    spec: SpecArg,
    by: Annotated[
        str | None,
        typer.Option("--by", help='Who approves, "Name <email>" (default: git user.name and user.email).'),
    ] = None,
    role: Annotated[str | None, typer.Option("--role", help="The approver's role, e.g. 'Tech Lead'.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A one-line note kept in the sign-off.")] = None,
    ssh_key: Annotated[
        Path | None,
        typer.Option("--ssh-key", help="Also sign with this SSH key (ssh-keygen -Y sign -n specdraft)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Approve despite lint errors (recorded in the sign-off).")
    ] = False,
    template: CheckTemplateOpt = None,
) -> None:
    """Add a sign-off record; the spec becomes APPROVED when enough approvals hold."""
    with user_errors():
        person = resolve_person(by, cwd=spec.resolve().parent)
        approved = approve_file(
            spec, by=person, role=role, note=note, force=force, ssh_key=ssh_key, template=template
        )
        result, findings = approved.approval, approved.findings
        record = result.record
        if record.forced:
            errors, _ = count_errors(findings)
            typer.echo(f"Warning: approved with {errors} lint error(s); recorded as forced.", err=True)
        signed = f", signed with SSH key {record.signature.key}" if record.signature else ""
        role_text = f" ({record.role})" if record.role else ""
        typer.echo(f"Approved by {record.signer}{role_text}{signed}.")
        typer.echo(
            f"{spec}: {result.previous_status} -> {result.status} "
            f"({result.holding} of {result.required} required approval(s) hold)"
        )


def reopen_spec(spec: Path, by: str | None) -> str | None:
    """Reopen SPEC for edits and write it: DRAFT again, every active approval marked superseded.

    The one way an APPROVED spec becomes editable (`specdraft reopen`, and --reopen on chat and refine).
    None when there was nothing to reopen (a DRAFT without active approvals): nothing is written.
    """
    doc = load_spec(spec)
    person = reopener(by, spec.resolve().parent)
    result = reopen(doc, person)
    if result.previous_status is Status.DRAFT and not result.superseded:
        return None
    atomic_write_text(spec, result.doc.serialise())
    return (
        f"Reopened {spec} by {person}: status is DRAFT again; the {result.superseded} existing approval(s) "
        "no longer hold (kept in the front matter, marked superseded)."
    )


@app.command("reopen")
def reopen_command(
    spec: SpecArg,
    by: ReopenByOpt = None,
) -> None:
    """Set SPEC back to DRAFT so it can be edited again; its approvals no longer hold (kept as history)."""
    with user_errors():
        message = reopen_spec(spec, by)
        typer.echo(message or f"{spec} is already a DRAFT with no active approvals; nothing to reopen.")


# -- verify / status --------------------------------------------------------------------------------


def _approvals_table(checks: list[ApprovalCheck]) -> Table:
    table = Table(show_lines=False, expand=False)
    table.add_column("#", justify="right")
    table.add_column("Signer")
    table.add_column("Role")
    table.add_column("Signed (UTC)", no_wrap=True)
    table.add_column("Signature", no_wrap=True)
    table.add_column("Holds", no_wrap=True)
    for c in checks:
        r = c.record
        holds = "superseded" if c.superseded else ("[green]yes[/]" if c.holds else "[red]NO[/]")
        table.add_row(
            str(c.index),
            escape(for_terminal(r.signer)) + (" [yellow](forced)[/]" if r.forced else ""),
            escape(for_terminal(r.role or "-")),
            r.signed_at.strftime("%Y-%m-%d %H:%M:%S"),
            c.signature,
            holds,
        )
    return table


def _print_report(report: VerifyReport, spec: Path, *, verdict: bool) -> None:
    console = _console()
    if report.checks:
        console.print(_approvals_table(report.checks))
    for check in report.checks:
        for reason in check.reasons:
            signer, why = for_terminal(check.record.signer), for_terminal(reason)
            console.print(f"Approval {check.index} ({escape(signer)}): {escape(why)}")
    for problem in report.problems:
        console.print(f"Problem: {escape(for_terminal(problem))}")
    if verdict:
        word = "OK" if report.exit_code == 0 else "FAILED"
        console.print(
            f"{word}: {escape(str(spec))}: {report.holding} of {report.required} required approval(s) hold; "
            f"status {report.status}"
        )


@app.command("verify")
def verify_command(
    spec: SpecArg,
    allowed_signers: Annotated[
        Path | None,
        typer.Option(
            "--allowed-signers",
            help="Check SSH signatures against this allowed_signers file "
            "(then every approval must be signed).",
        ),
    ] = None,
    as_json: JsonOpt = False,
    drift: Annotated[
        bool,
        typer.Option(
            "--drift", help="Also fail (exit 1) when the spec's --context files changed (see drift)."
        ),
    ] = False,
) -> None:
    """Check that every approval still holds: exit 0 all hold, 1 any broken, 2 bad input or unknown signer."""
    with user_errors():
        doc = load_spec(spec)
        report = verify(doc, allowed_signers=allowed_signers)
        _template_notice(doc, spec)
        # a spec drafted without --context has nothing to drift from: verify --drift passes it
        drifted = check_drift(doc, spec) if drift and context_entries(doc.front_matter) else None
        if as_json:
            data = report.to_dict()
            if drifted is not None:
                data["drift"] = drifted.as_dict()
            typer.echo(json.dumps(data, indent=2))
        else:
            _print_report(report, spec, verdict=True)
            if drifted is not None:
                _print_drift(drifted, spec)
        code = report.exit_code or (1 if drifted is not None and drifted.drifted else 0)
        if code:
            raise typer.Exit(code)


def _template_notice(doc: SpecDocument, spec: Path) -> None:
    """On stderr: the spec's template was edited since drafting (its recorded sha256, which the approvals
    cover, no longer matches). A notice, not a failure: a built-in template changes with specdraft."""
    try:
        notice = template_changed(doc, spec_outline(None, doc, spec))
    except SpecdraftError:  # verify does not need the template; a missing one is lint's to report
        return
    if notice:
        typer.echo(for_terminal(f"{spec}: {notice}"), err=True)


def _print_drift(report: DriftReport, spec: Path) -> None:
    if not report.drifted:
        typer.echo(f"{spec}: no drift: the context files match the {report.baseline}.")
        return
    typer.echo(f"{spec}: context drift since the {report.baseline}:")
    for kind, paths in (("changed", report.changed), ("missing", report.missing)):
        for path in paths:
            used = report.sections.get(path, [])
            typer.echo(f"  {kind:<8}{path}" + (f"  (used by: {', '.join(used)})" if used else ""))
    for path in report.new:
        typer.echo(f"  {'new':<8}{path}")


@app.command("drift")
def drift_command(spec: SpecArg, as_json: JsonOpt = False) -> None:
    """List the spec's --context files changed, missing or new since the draft (or the last approval).

    Exit codes: 0 no drift, 1 drift, 2 bad input (not a spec, or a spec drafted without --context).
    """
    with user_errors():
        report = check_drift(load_spec(spec), spec)
        if as_json:
            typer.echo(json.dumps(report.as_dict(), indent=2))
        else:
            _print_drift(report, spec)
        if report.drifted:
            raise typer.Exit(1)


@app.command("status")
def status_command(spec: SpecArg, template: CheckTemplateOpt = None, as_json: JsonOpt = False) -> None:
    """Show the spec's status, its approvals and whether they still hold."""
    with user_errors():
        doc, _, findings = _load(spec, template)
        status = current_status(doc)
        read_signoffs(doc)
        required = approvals_required(doc)
        report = verify(doc)
        footer = doc.footer.status if doc.footer else None
        errors, warnings = count_errors(findings)
        if as_json:
            data = {
                "schema": "specdraft.status/1",
                "path": str(spec),
                "status": status,
                "footer_status": footer,
                "approvals_required": required,
                "approvals_holding": report.holding,
                "approved": is_approved(doc, report),
                "lint": {"errors": errors, "warnings": warnings},
                "approvals": [c.to_dict() for c in report.checks],
            }
            typer.echo(json.dumps(data, indent=2))
            return
        console = _console()
        console.print(f"{escape(str(spec))}: {status}")
        console.print(f"Approvals: {report.holding} of {required} required hold")
        console.print(escape(summary_line(findings)))
        if report.checks:
            _print_report(report, spec, verdict=False)
