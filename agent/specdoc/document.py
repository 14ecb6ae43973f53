"""A spec Markdown file as a document: front matter, title, ``##`` sections and the footer.

Parsing is lossless: ``parse_spec(text).serialise() == text`` for every input, so a caller can replace
one section (``with_section_text``) or the status (``with_status``) and write the file back without
touching any other byte. Sign-off hashes (``body_sha256``, ``section_hashes``) ignore exactly what the
lifecycle itself changes: the front matter and the value on the footer's ``**Status**:`` line.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agent.errors import InputError
from agent.specdoc.frontmatter import dump_front_matter, split_front_matter
from agent.specdoc.requirements import REQUIREMENT

PREAMBLE_KEY = "(preamble)"
FOOTER_KEY = "(footer)"

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_H1 = re.compile(r"^ {0,3}#\s+(.*?)\s*#*\s*$")
_H2 = re.compile(r"^ {0,3}##\s+(.*?)\s*#*\s*$")
_H3 = re.compile(r"^ {0,3}###\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^ {0,3}-{3,}\s*$")
_FOOTER_FIELD = re.compile(r"^\s*\*\*(?P<key>[^*\n]+?)\*\*\s*:[ \t]*(?P<value>.*?)(?P<trail>[ \t]*)$")
_STATUS_LINE = re.compile(r"^(?P<head>\s*\*\*Status\*\*\s*:[ \t]*)(?P<value>.*?)(?P<trail>[ \t]*)$")


def split_lines(text: str) -> list[str]:
    """Split on ``\\n`` only, keeping the line ends, so ``"".join(split_lines(t)) == t``."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def heading_rows(lines: list[str], fenced: list[bool]) -> list[int]:
    """The lines that can be headings, in order: outside code, a '#' after the indentation (spaces)."""
    return [i for i, line in enumerate(lines) if not fenced[i] and line.lstrip(" ")[:1] == "#"]


def fence_mask(lines: list[str]) -> list[bool]:
    """For each line, whether it lies inside (or opens/closes) a fenced code block."""
    mask: list[bool] = []
    opener: str | None = None
    for line in lines:
        match = _FENCE.match(line) if line.lstrip(" ")[:1] in ("`", "~") else None  # most lines: no look
        if opener is None:
            if match:
                opener = match.group(1)
                mask.append(True)
            else:
                mask.append(False)
        else:
            mask.append(True)
            if (
                match
                and match.group(1)[0] == opener[0]
                and len(match.group(1)) >= len(opener)
                and not line.strip()[len(match.group(1)) :].strip()
            ):
                opener = None
    return mask


@dataclass(frozen=True)
class Subsection:
    title: str
    line: int


@dataclass(frozen=True)
class Section:
    """One ``##`` section: its heading line through the line before the next ``##`` (or the footer)."""

    title: str
    #: 1-based line numbers in the whole file (front matter included), inclusive
    start_line: int
    end_line: int
    text: str
    subsections: tuple[Subsection, ...] = ()

    @property
    def content(self) -> str:
        """The section's text without its heading line."""
        return self.text.split("\n", 1)[1] if "\n" in self.text else ""


@dataclass(frozen=True)
class Footer:
    """The block after the spec's last ``---`` rule: ``**Key**: value`` lines."""

    start_line: int
    #: the rule line and everything after it, verbatim
    text: str
    fields: dict[str, str] = field(default_factory=dict)
    #: 1-based line of each field
    field_lines: dict[str, int] = field(default_factory=dict)

    @property
    def status(self) -> str | None:
        return self.fields.get("Status")


@dataclass(frozen=True)
class SpecDocument:
    source: str
    front_matter: dict[str, Any]
    #: the front-matter block verbatim ("" when the file has none)
    front_matter_text: str
    #: everything between the front matter and the first ``##`` heading (H1 title included)
    preamble: str
    sections: tuple[Section, ...]
    footer: Footer | None
    title: str | None
    #: 1-based line on which the H1 title stands
    title_line: int | None

    # -- serialisation -----------------------------------------------------------------------
    @functools.cached_property
    def body(self) -> str:  # the document is immutable: joined once, however many rules read it
        return (
            self.preamble + "".join(s.text for s in self.sections) + (self.footer.text if self.footer else "")
        )

    def serialise(self) -> str:
        return self.front_matter_text + self.body

    # -- the body's lines, split and classified once for every rule that reads them (never changed) --
    @functools.cached_property
    def body_lines(self) -> list[str]:
        """The body's lines, line ends kept (:func:`split_lines`)."""
        return split_lines(self.body)

    @functools.cached_property
    def body_fenced(self) -> list[bool]:
        """For each body line, whether it lies in a fenced code block (:func:`fence_mask`)."""
        return fence_mask(self.body_lines)

    @functools.cached_property
    def body_heading_rows(self) -> list[int]:
        """The body lines that can be headings (:func:`heading_rows`): every heading is among them."""
        return heading_rows(self.body_lines, self.body_fenced)

    @functools.cached_property
    def body_requirements(self) -> list[re.Match[str] | None]:
        """For each body line, its match of ``REQUIREMENT`` (``- [ ] **FR-001**: ...``) or None (any
        other line, and every line in a code fence): lint and trace read the same matches."""
        return [
            REQUIREMENT.match(line.rstrip("\n")) if "**" in line and not fenced else None
            for line, fenced in zip(self.body_lines, self.body_fenced, strict=True)
        ]

    @functools.cached_property
    def body_line_sections(self) -> list[str]:
        """For each body line, the title of its ``##`` section (as :meth:`section_at` says)."""
        # one sweep over the sections, not a look-up per line: what section_at says of each line
        offset = self.front_matter_text.count("\n")
        count = len(self.body_lines)
        titles = [""] * count
        for index, section in enumerate(self.sections):
            last = section.end_line
            if index + 1 < len(self.sections):
                last = min(last, self.sections[index + 1].start_line - 1)
            first, stop = max(section.start_line - 1 - offset, 0), min(last - offset, count)
            if stop > first:
                titles[first:stop] = [section.title] * (stop - first)
        if self.footer is not None:
            first = max(self.footer.start_line - 1 - offset, 0)
            titles[first:] = ["footer"] * max(count - first, 0)
        return titles

    # -- hashing -------------------------------------------------------------------------------
    def normalised_body(self) -> str:
        """The body with the footer status value blanked (the lifecycle changes it, nothing else)."""
        return self.preamble + "".join(s.text for s in self.sections) + _normalised_footer(self.footer)

    def body_sha256(self) -> str:
        return hashlib.sha256(self.normalised_body().encode("utf-8")).hexdigest()

    def section_hashes(self) -> dict[str, str]:
        """sha256 of each part of the body, keyed by section title; together they cover every character.

        The text before the first ``##`` is ``(preamble)``, the footer ``(footer)``; a repeated title gets
        `` (2)``, `` (3)``, ... so keys are unique.
        """
        parts: dict[str, str] = {PREAMBLE_KEY: _sha(self.preamble)}
        for key, section in zip(self.section_keys(), self.sections, strict=True):
            parts[key] = _sha(section.text)
        if self.footer is not None:
            parts[FOOTER_KEY] = _sha(_normalised_footer(self.footer))
        return parts

    def section_keys(self) -> list[str]:
        seen: dict[str, int] = {}
        keys: list[str] = []
        for section in self.sections:
            seen[section.title] = seen.get(section.title, 0) + 1
            count = seen[section.title]
            keys.append(section.title if count == 1 else f"{section.title} ({count})")
        return keys

    # -- look-up -------------------------------------------------------------------------------
    def section(self, title: str) -> Section | None:
        wanted = normalise_heading(title)
        for section in self.sections:
            if normalise_heading(section.title) == wanted:
                return section
        return None

    def section_at(self, line: int) -> str:
        """The title of the ``##`` section holding a 1-based line ("" before the first, "footer" after)."""
        if self.footer is not None and line >= self.footer.start_line:
            return "footer"
        starts = self._section_starts
        index = bisect.bisect_right(starts, line) - 1  # the last section starting at or before the line
        if index >= 0 and line <= self.sections[index].end_line:
            return self.sections[index].title
        return ""

    @functools.cached_property
    def _section_starts(self) -> list[int]:
        return [section.start_line for section in self.sections]

    @property
    def status(self) -> str | None:
        value = self.front_matter.get("status")
        return None if value is None else str(value)

    # -- editing ---------------------------------------------------------------------------------
    def with_section_text(self, title: str, new_text: str) -> SpecDocument:
        """Replace one ``##`` section (heading line included) and return the re-parsed document.

        ``new_text`` must start with a ``## `` heading; a missing final newline is added so the next
        section still starts on its own line.
        """
        index = next(
            (
                i
                for i, s in enumerate(self.sections)
                if normalise_heading(s.title) == normalise_heading(title)
            ),
            None,
        )
        if index is None:
            raise InputError(f"{self.source}: no section '{title}'.")
        if not _H2.match(new_text.split("\n", 1)[0]):
            raise InputError(f"Replacement for section '{title}' must start with a '## ' heading line.")
        if not new_text.endswith("\n"):
            new_text += "\n"
        texts = [s.text for s in self.sections]
        texts[index] = new_text
        body = self.preamble + "".join(texts) + (self.footer.text if self.footer else "")
        return parse_spec(self.front_matter_text + body, source=self.source)

    def with_front_matter(self, data: dict[str, Any]) -> SpecDocument:
        """Replace the front matter (re-dumped as YAML); the body stays byte-identical.

        The new block is read back with the reader's own parser first, so no writer produces front
        matter that ``load_spec`` would refuse (over its size or value limits): InputError instead.
        """
        text = dump_front_matter(data)
        try:
            split_front_matter(text, source=self.source)
        except InputError as exc:
            detail = exc.message.split("front matter refused: ", 1)[-1].rstrip(".")
            raise InputError(
                f"{self.source}: not written: its front matter would be refused when read back ({detail}).",
                hint="Nothing was changed. Sign-off records keep a hash of every section: a spec with "
                "fewer sections (split it) or fewer records (reopen, which supersedes them) fits.",
            ) from None
        return replace(self, front_matter=dict(data), front_matter_text=text)

    def with_footer_field(self, key: str, value: str) -> SpecDocument:
        """Set a footer ``**Key**:`` value, keeping the line's label and trailing spaces exactly."""
        if self.footer is None or key not in self.footer.field_lines:
            raise InputError(f"{self.source}: the footer has no '**{key}**:' line.")
        lines = split_lines(self.footer.text)
        index = self.footer.field_lines[key] - self.footer.start_line
        end = "\n" if lines[index].endswith("\n") else ""
        match = _FOOTER_FIELD.match(lines[index].rstrip("\n"))
        assert match is not None
        line = lines[index].rstrip("\n")
        lines[index] = line[: match.start("value")] + value + line[match.end("value") :] + end
        fields = dict(self.footer.fields)
        fields[key] = value
        footer = replace(self.footer, text="".join(lines), fields=fields)
        return replace(self, footer=footer)


def _normalised_footer(footer: Footer | None) -> str:
    if footer is None:
        return ""
    out = []
    for line in split_lines(footer.text):
        end = "\n" if line.endswith("\n") else ""
        match = _STATUS_LINE.match(line.rstrip("\n"))
        out.append(match.group("head") + "<status>" + match.group("trail") + end if match else line)
    return "".join(out)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_heading(title: str) -> str:
    return " ".join(title.split()).casefold()


def parse_spec(text: str, *, source: str = "spec") -> SpecDocument:
    """Parse a spec; raise InputError when it has no ``##`` sections (not a spec)."""
    fm = split_front_matter(text, source=source)
    fm_text = text[: len(text) - len(fm.body)] if fm.present else ""
    offset = fm_text.count("\n")  # lines before the body
    lines = split_lines(fm.body)
    fenced = fence_mask(lines)

    hashes = heading_rows(lines, fenced)
    # each line is matched once, by the expression of its level (the number of '#' it starts with)
    h2_titles: dict[int, str] = {}
    h3: list[tuple[int, str]] = []
    for i in hashes:
        marks = lines[i].lstrip(" ")
        level = len(marks) - len(marks.lstrip("#"))
        if level == 2 and (m := _H2.match(lines[i].rstrip("\n"))):
            h2_titles[i] = m.group(1)
        elif level == 3 and (m := _H3.match(lines[i].rstrip("\n"))):
            h3.append((i, m.group(1)))
    h2 = list(h2_titles)
    if not h2:
        raise InputError(
            f"{source} is not a spec: it has no '## ' sections.",
            hint="specdraft reads Markdown specs that follow a template (see `specdraft templates`).",
        )
    footer_start = _find_footer(lines, fenced, h2[-1])
    stop = footer_start if footer_start is not None else len(lines)

    title, title_line = None, None
    for i in range(h2[0]):
        match = _H1.match(lines[i].rstrip("\n"))
        if not fenced[i] and match:
            title, title_line = match.group(1), i + 1 + offset
            break

    h3_rows = [i for i, _ in h3]
    sections: list[Section] = []
    for n, start in enumerate(h2):
        end = h2[n + 1] if n + 1 < len(h2) else stop
        first, last = bisect.bisect_right(h3_rows, start), bisect.bisect_left(h3_rows, end)
        subs = tuple(Subsection(title, i + 1 + offset) for i, title in h3[first:last])
        sections.append(
            Section(
                title=h2_titles[start],
                start_line=start + 1 + offset,
                end_line=end + offset,
                text="".join(lines[start:end]),
                subsections=subs,
            )
        )

    footer = None
    if footer_start is not None:
        fields: dict[str, str] = {}
        field_lines: dict[str, int] = {}
        for i in range(footer_start + 1, len(lines)):
            match = _FOOTER_FIELD.match(lines[i].rstrip("\n"))
            if match:
                fields[match.group("key").strip()] = match.group("value")
                field_lines[match.group("key").strip()] = i + 1 + offset
        footer = Footer(footer_start + 1 + offset, "".join(lines[footer_start:]), fields, field_lines)

    doc = SpecDocument(
        source=source,
        front_matter=fm.data,
        front_matter_text=fm_text,
        preamble="".join(lines[: h2[0]]),
        sections=tuple(sections),
        footer=footer,
        title=title,
        title_line=title_line,
    )
    # the body is these lines joined (preamble, sections, footer): hand the document what was worked out
    # here instead of splitting and scanning it for fences again (cached_property reads the instance dict)
    doc.__dict__.update(body=fm.body, body_lines=lines, body_fenced=fenced, body_heading_rows=hashes)
    return doc


def _find_footer(lines: list[str], fenced: list[bool], last_h2: int) -> int | None:
    """Index of the last ``---`` rule after the last section when only ``**Key**: value`` lines follow."""
    for i in range(len(lines) - 1, last_h2, -1):
        if fenced[i]:
            return None
        stripped = lines[i].strip()
        if _RULE.match(lines[i].rstrip("\n")):
            rest = [line for line in lines[i + 1 :] if line.strip()]
            if rest and all(_FOOTER_FIELD.match(line.rstrip("\n")) for line in rest):
                return i
            return None
        if stripped and not _FOOTER_FIELD.match(lines[i].rstrip("\n")):
            return None
    return None


def load_spec(path: str | Path) -> SpecDocument:
    """Read and parse a spec file (InputError for a missing, unreadable or non-spec file)."""
    from agent.io.textinput import read_user_text

    text, label = read_user_text(path, what="Spec")
    return parse_spec(text, source=label)
