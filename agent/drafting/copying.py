"""The example-copy check: an answer that repeats the prompt's worked example instead of writing
(and the prompt-copy check: one that repeats the prompt's own wording; and an answer that only rewords
the template's instruction, in the spec's language: :func:`paraphrased_instruction`).

It must let a real answer use the same words (the template's instructions have theirs in
:func:`agent.specdoc.placeholders.pasted_text`):

- a value is a copy of the worked example when it is the example with a word or two changed, or when
  most of what it says beyond the brief's own words is the example's and what it took includes a word
  of the example's feature (*reset*, *email*, *link*: :func:`~agent.drafting.examples.example_topic`):
  ``Users can request a reset link once and expires after 30 minutes`` in a spec about team
  invitations. Sharing only the standard vocabulary of specs (*p95 latency of the API*, *page the
  on-call engineer*, *issues tokens*) is no copy, and a brief about the example's own feature (all of
  the example topic's words in it) is never held to the example: there its words are the brief's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from difflib import SequenceMatcher
from typing import Any

from agent.drafting.examples import example_topic
from agent.drafting.prompting import prompt_clauses
from agent.drafting.values import normalise
from agent.specdoc.grounding import content_stems
from agent.specdoc.language import ENGLISH

#: shared content words (beyond the brief's) a value needs before it can be called a copy
MIN_SHARED = 3
#: ... and the share of the example's, and of the value's, own words they must make up
MIN_SHARE = 0.5
#: a value this similar to an example (difflib ratio of their words) copies it whatever it says ...
NEAR_COPY = 0.85
#: ... unless the example is this short: an enum-like value ("for the 95th percentile") may match it
NEAR_COPY_WORDS = 5


def copies_example(value: str, examples: list[str], brief_terms: frozenset[str] = frozenset()) -> bool:
    """Whether ``value`` says mostly what one of the ``examples`` says, beyond the brief's words.

    ``brief_terms`` are the brief's content stems (:func:`agent.specdoc.grounding.extract`); without them
    every shared word counts. Short values ("for the 95th percentile") share too few words to count.
    """
    if not examples or about_example_feature(brief_terms):
        return False
    if _near_copy(normalise(value), examples):
        return True
    said = set(content_stems(value)) - brief_terms
    if len(said) < MIN_SHARED:
        return False
    topic = example_topic()
    for example in examples:
        theirs = set(content_stems(example)) - brief_terms
        shared = said & theirs
        if (
            len(shared) >= MIN_SHARED
            and len(shared) >= MIN_SHARE * len(theirs)
            and len(shared) >= MIN_SHARE * len(said)
            and any(stem in topic for stem in shared)
        ):
            return True
    return False


def prompt_words_in(value: str) -> str | None:
    """A clause of the prompts' own wording that ``value`` repeats (``change requested by the
    person``), or None: a model echoing its instructions into the spec."""
    padded = f" {normalise(value)} "
    # the longest clause repeated names the echo best
    for clause in sorted(prompt_clauses(), key=lambda c: (-len(c), c)):
        if f" {clause} " in padded:
            return clause
    return None


def about_example_feature(brief_terms: frozenset[str]) -> bool:
    """Whether the brief is about the worked examples' own feature (it has all of their topic's words):
    then copying them is no mistake."""
    topic = example_topic()
    return bool(topic) and all(stem in brief_terms for stem in topic)


def _near_copy(norm: str, examples: list[str]) -> bool:
    """The example with a word or two changed is still a copy."""
    for example in examples:
        if len(example.split()) < NEAR_COPY_WORDS:
            continue
        matcher = SequenceMatcher(None, norm, normalise(example))
        # the quick ratios are upper bounds of ratio(): most strings are ruled out without the full match
        if (
            matcher.real_quick_ratio() >= NEAR_COPY
            and matcher.quick_ratio() >= NEAR_COPY
            and matcher.ratio() >= NEAR_COPY
        ):
            return True
    return False


def without_example_copies(
    answer: str, examples: list[str], brief_terms: frozenset[str] = frozenset()
) -> str:
    """The answer with every value that copies the prompt's example emptied, to quote back in a re-ask.

    A small model shown its own copy of the example copies it again ("keep what was right"), even once
    the example itself is gone from the prompt; the other values stay, so it can keep those.
    """
    try:
        obj = json.loads(answer)
    except ValueError:
        return answer

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return "" if normalise(value) and copies_example(value, examples, brief_terms) else value
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        return value

    cleaned = clean(obj)
    return answer if cleaned == obj else json.dumps(cleaned, ensure_ascii=False)


# -- the template's instruction reworded -------------------------------------------------------------

#: a value rewording an instruction says at most this many words of its own (stems)...
PARAPHRASE_EXTRA = 1
#: ... and holds this share of the instruction's words (stems), two at least
PARAPHRASE_SHARE = 0.6
#: instructions and values with fewer words (stems) than this are not compared
PARAPHRASE_MIN_WORDS = 2


def _said(text: str, language: str) -> set[str]:
    """The stems a text says, read in its language (a number counts as one word of its own)."""
    stems = {s for s in content_stems(text, language) if not s.isdigit()}
    return stems | ({"#"} if any(ch.isdigit() for ch in text) else set())


def paraphrased_instruction(value: str, instructions: Iterable[str], language: str = ENGLISH) -> str | None:
    """The template instruction ``value`` only rewords, or None.

    ``[Kurze technische Beschreibung des Features und seines Zwecks]`` answered "Hier beschreiben wir kurz
    das Feature technisch und seinen Zweck": compared by the stems of the spec's language (Snowball's
    German, Spanish, ...: *Beschreibung* and *beschreiben* are one word; the English light stemmer), the
    value says at most one word the instruction does not (*hier*) and most of the instruction's words. A
    real answer names what it is about, so it says more than the instruction did.
    """
    said = _said(value, language)
    if len(said) < PARAPHRASE_MIN_WORDS:
        return None
    for instruction in instructions:
        wanted = _said(instruction, language)
        if len(wanted) < PARAPHRASE_MIN_WORDS:
            continue
        shared = said & wanted
        if (
            len(shared) >= 2
            and len(shared) >= PARAPHRASE_SHARE * len(wanted)
            and len(said - wanted) <= PARAPHRASE_EXTRA
        ):
            return instruction
    return None
