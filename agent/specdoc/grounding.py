"""Brief grounding: the key terms and facts of a brief, and whether a text shares them.

Deterministic: in English words are lower-cased, stop words dropped and suffixes stripped
(``invitations`` -> ``invit``, ``invites`` -> ``invit``), a short synonym list maps common variants onto
one stem. A brief in another language is read with that language's stemmer or, in Chinese and
Japanese, character pairs (``agent.specdoc.wordstems``); its ``BriefFacts.language`` says which, and
the texts compared with it are read the same way. Drafting (re-ask an off-topic section), lint
(``off-topic``, ``brief-uncovered``) and eval (brief coverage) share this one module.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from itertools import chain

from agent.specdoc.alternation import literal_trie
from agent.specdoc.language import ENGLISH, LANGUAGES, text_language
from agent.specdoc.wordstems import generic_stems, specific_stems, stems_in, words_in

#: a word: a letter, then letters, digits, '+' and '#', with dots only inside ("Node.js", "C++", "e.g")
#: (written without backtracking: a whole spec body is read word by word)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+#]*(?:\.+[A-Za-z0-9+#]+)*")
_STOP = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each either else etc ever
    every few for from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just let like may me might more most must my myself neither no nor not
    now of off on once one only or other our ours ourselves out over own per same shall she should
    so some such than that the their theirs them themselves then there these they this those through
    to too under until up upon us very via was we were what when where which while who whom why will
    with within without would yet you your yours yourself yourselves e.g i.e eg ie don doesn isn
    aren won t s get gets got make makes made use used using uses need needs needed want wants way
    ways new thing things lot lots many much well want able within across around
    """.split()  # noqa: SIM905
)
#: words any feature's spec may use: they neither ground a text nor make it off-topic.
_GENERIC = frozenset(
    """
    system service services feature features user users data application app api apis support
    supports supported provide provides provided allow allows allowed enable enables ensure ensures
    ensured handle handles implement implementation implemented manage managed management process
    processing request requests response responses component components module modules solution
    platform functionality functional requirement requirements spec specification technical design
    architecture performance security secure reliability reliable scalability scalable maintain
    maintainability quality test tests testing integration integrations time team teams work works
    based include includes including information content page pages view views option options
    setting settings level support error errors handling change changes update updates updated
    create created creates add added remove removed existing current currently simple easy fast
    clear high low large small good better best first second main key core overall general specific
    various multiple single common standard default customer customers client clients people person
    help helps business value goal goals approach plan phase
    """.split()  # noqa: SIM905
)
#: words that fill a sentence without saying anything about a feature, beyond the generic ones (a
#: sentence of only these is filler; other languages' lists are in agent.specdoc.wordstems)
_FILLER = """
    variety various purpose purposes different thing things great important importance improve
    experience wide range kind kinds aspect aspects certain particular possible everything
    something anything overall nice useful benefit benefits way ways number lot many
    """
#: variant -> canonical word (applied before stemming).
_SYNONYMS = {
    "invite": "invitation",
    "invitee": "invitation",
    "invitees": "invitation",
    "e-mail": "email",
    "mail": "email",
    "mails": "email",
    "postgres": "postgresql",
    "db": "database",
    "signup": "register",
    "sign-up": "register",
    "login": "signin",
    "log-in": "signin",
    "administrator": "admin",
    "administrators": "admin",
    "organisation": "organization",
    "org": "organization",
    "colour": "color",
    "theme": "color",
    "themes": "color",
    "callback": "webhook",
    "hook": "webhook",
    "retry": "retries",
    "retrying": "retries",
    "spreadsheet": "csv",
    "download": "export",
    "downloads": "export",
    "expiry": "expiration",
}
_SUFFIXES = (
    "ational",
    "ations",
    "ation",
    "ments",
    "ment",
    "ness",
    "ings",
    "ing",
    "ies",
    "ied",
    "ers",
    "er",
    "ed",
    "es",
    "ly",
    "s",
)

_UNIT_WORDS = (
    r"ms|milliseconds?|s|sec|secs|seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|"
    r"kb|mb|gb|tb|bytes?|%|percent|rows?|users?|requests?|rps|qps|items?|records?|workspaces?|tenants?|"
    r"accounts?|invites?|invitations?|events?|messages?|emails?|attempts?|retries|times|files?|columns?|"
    r"pages?|characters?|k|m"
    # the same units in German and Spanish briefs
    r"|Sekunden?|Minuten?|Stunden?|Tagen?|Wochen?|Monaten?|Jahren?|Benutzern?|Nutzern?|Anfragen|Einladungen"
    r"|Arbeitsbereichen?|segundos?|minutos?|horas?|días|semanas?|meses|años|usuarios?|peticiones"
    r"|solicitudes|invitaciones|espacios"
)
#: a number and a Chinese or Japanese counter or unit (7天, 500个, 30分钟); no word boundary there
#: in the order they are tried ("个月" before "月")
_CJK_UNITS: tuple[str, ...] = (
    *("小时", "分钟", "秒钟", "秒", "天", "日", "周", "个月", "月", "年", "个"),
    *("人", "次", "条", "封", "件", "名", "行", "项", "位", "時間", "分"),
)
_CJK_NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?(" + "|".join(_CJK_UNITS) + ")")
#: the forms of one German unit counted as one (``7 Tage`` is ``7 Tagen``)
_UNIT_FORMS = {
    **dict.fromkeys(("tage", "tagen"), "tag"),
    **dict.fromkeys(("sekunde", "sekunden"), "sekunde"),
    **dict.fromkeys(("minute", "minuten"), "minute"),
    **dict.fromkeys(("stunde", "stunden"), "stunde"),
    **dict.fromkeys(("woche", "wochen"), "woche"),
    **dict.fromkeys(("monate", "monaten"), "monat"),
    **dict.fromkeys(("jahre", "jahren"), "jahr"),
    **dict.fromkeys(("benutzer", "benutzern", "nutzer", "nutzern"), "nutzer"),
    **dict.fromkeys(("arbeitsbereiche", "arbeitsbereichen"), "arbeitsbereich"),
}


def _unit_literals(words: str) -> list[str]:
    """The words ``_UNIT_WORDS`` stands for, each optional last letter spelled out (``days?``: day,
    days), lower case (the expression ignores case)."""
    found: list[str] = []
    for word in words.split("|"):
        found += [word[:-2].lower(), word[:-1].lower()] if word.endswith("?") else [word.lower()]
    return found


# The units as one factored alternation: each unit is a whole word (or '%') followed by \b, so at most
# one of them can end there and the order the plain alternation tried them in cannot matter.
_NUMBER = re.compile(
    rf"\b(\d[\d,]*(?:\.\d+)?)\s?(k\b|m\b|%)?\s?({literal_trie(_unit_literals(_UNIT_WORDS))})?\b"
    r"(?:\s+per\s+([a-z]+))?",
    re.IGNORECASE,
)
#: ``_NUMBER`` from its first digit on, the word boundary before it asked after that digit: an expression
#: that starts with a digit lets ``re`` skip to the next digit at once, where one that starts with ``\b``
#: is tried at every position of the text
_NUMBER_FROM_DIGIT = re.compile(r"(\d(?<!\w\d)" + _NUMBER.pattern.removeprefix(r"\b(\d"), re.IGNORECASE)


def _number_matches(text: str) -> Iterator[re.Match[str]]:
    """What ``_NUMBER.finditer(text)`` finds (tests compare the two), in a third less time on a spec."""
    return _NUMBER_FROM_DIGIT.finditer(text)


_QUANTITY = re.compile(
    r"\b(?:a few|several|hundreds of|thousands of|millions of|a few hundred|a few thousand|dozens of)"
    r"\s+(?:[a-z]+\s+){0,2}?[a-z]+\s+per\s+[a-z]+\b",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?!\[[ xX]\]\s*$)(.+)$")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\n\s*(?:[-*+]\s+)?)$")


@functools.lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A light suffix-stripping stem: enough to match plural, verb and -ation forms."""
    word = word.lower().strip(".")
    word = _SYNONYMS.get(word, word)
    if len(word) <= 4 or not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 5:
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def word_count(text: str, language: str = ENGLISH) -> int:
    """How many words ``text`` has (Chinese and Japanese: about one per two characters)."""
    if language == ENGLISH:
        return len(text.split())
    found = words_in(text, language)
    if LANGUAGES[language].stemmer is not None:
        return len(found)  # a word with letters beyond ASCII (gültig, información) is one word too
    return sum(max(1, len(w) // 2) if not w.isascii() else 1 for w in found)


@functools.lru_cache(maxsize=65_536)
def _word_stems(word: str) -> tuple[str, ...]:
    low = word.lower().strip(".")
    if low in _STOP or len(low) < 2:
        return ()
    return tuple(stem(part) for part in low.split("/"))


def content_stems(text: str, language: str = ENGLISH) -> list[str]:
    """Stems of the words that carry meaning: not stop words, not one letter (``language``: the
    text's; CJK: character pairs)."""
    if language != ENGLISH:
        return stems_in(text, language)
    # chain/map keep the loop in C: a whole spec body has thousands of words (lint's coverage)
    return list(chain.from_iterable(map(_word_stems, _WORD.findall(text))))


def content_stem_set(text: str, language: str = ENGLISH) -> set[str]:
    """``set(content_stems(text, language))``, each distinct word stemmed once (a whole spec body)."""
    if language != ENGLISH:
        return set(stems_in(text, language))
    return set(chain.from_iterable(map(_word_stems, set(_WORD.findall(text)))))


#: the characters of ``_WORD``'s words: a run of them holds whole words, and nothing else does
_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+#.")


@functools.lru_cache(maxsize=1)
def _synonyms_by_stem() -> dict[str, tuple[str, ...]]:
    """The synonyms (variants) a word can be to get each stem without containing it (``mail``: email)."""
    found: dict[str, list[str]] = {}
    for variant in _SYNONYMS:
        if _WORD_CHARS.issuperset(variant):  # "e-mail" is never one word
            found.setdefault(stem(variant), []).append(variant)
    return {key: tuple(variants) for key, variants in found.items()}


class StemsOf:
    """The content stems of an English text, each looked up when asked: ``s in StemsOf(text)`` is
    ``s in content_stem_set(text)``. A word has stem ``s`` only if it starts with ``s`` or is a synonym
    that stems to it, so only the words holding one of these are stemmed (a brief has a dozen facts; a
    spec body has a thousand distinct words)."""

    def __init__(self, text: str) -> None:
        self._text = text
        lowered = text.lower()
        # lower-casing that changes a length moves what follows: then every word is stemmed once
        self._lowered = lowered if len(lowered) == len(text) else None
        self._every: set[str] | None = None
        self._known: dict[str, bool] = {}

    def __contains__(self, wanted: object) -> bool:
        if not isinstance(wanted, str):
            return False
        if self._lowered is None:
            if self._every is None:
                self._every = content_stem_set(self._text)
            return wanted in self._every
        known = self._known.get(wanted)
        if known is None:
            known = self._known[wanted] = self._find(wanted)
        return known

    def _find(self, wanted: str) -> bool:
        text, lowered = self._text, self._lowered
        assert lowered is not None
        needles = _synonyms_by_stem().get(wanted, ())
        if wanted and _WORD_CHARS.issuperset(wanted):
            needles = (wanted, *needles)
        for needle in needles:
            at = lowered.find(needle)
            while at != -1:
                if text[at] not in _WORD_CHARS:  # a letter lower-cased onto ASCII (Kelvin sign): no word here
                    at = lowered.find(needle, at + 1)
                    continue
                start, end = at, at + 1
                while start and text[start - 1] in _WORD_CHARS:
                    start -= 1
                while end < len(text) and text[end] in _WORD_CHARS:
                    end += 1
                # the words of a run are the words the whole text has there: no word spans a non-word
                # character, so reading the text stops before the run and starts again at its start
                if any(wanted in _word_stems(word) for word in _WORD.findall(text, start, end)):
                    return True
                at = lowered.find(needle, end)
        return False


_GENERIC_STEMS = frozenset(stem(w) for w in _GENERIC)


def is_generic(term: str, language: str = ENGLISH) -> bool:
    return term in (_GENERIC_STEMS if language == ENGLISH else generic_stems(language))


@functools.lru_cache(maxsize=1)
def _filler_stems() -> frozenset[str]:
    return frozenset(content_stems(_FILLER))


def said_stems(text: str, language: str = ENGLISH) -> list[str]:
    """The content stems of ``text`` that say something about a feature: not generic, not filler."""
    if language != ENGLISH:
        return specific_stems(text, language)
    return [s for s in content_stems(text) if not is_generic(s) and s not in _filler_stems()]


@dataclass(frozen=True)
class Fact:
    """One checkable fact of a brief: a number with its unit, a technology, a title term."""

    kind: str  # "number" | "technology" | "term"
    text: str

    def mentioned_in(
        self,
        text: str,
        stems: Container[str],
        quantities: set[tuple[str, str]] | None = None,
        language: str = ENGLISH,
    ) -> bool:
        """Whether ``text`` (its content ``stems``; its ``_quantities`` when known) mentions the fact."""
        if self.kind == "number":
            return _number_mentioned(self.text, text, stems, quantities)
        return all(s in stems for s in content_stems(self.text, language))


@dataclass(frozen=True)
class BriefFacts:
    """What a brief is about: its key terms (stems) and checkable facts."""

    title: str
    terms: frozenset[str]
    facts: tuple[Fact, ...]
    asks: tuple[str, ...] = field(default=())
    #: the brief's language: its terms are that language's stems (agent.specdoc.wordstems)
    language: str = ENGLISH

    def coverage(self, text: str) -> tuple[float, list[Fact]]:
        """Share (0-1) of facts ``text`` mentions, and the facts it never mentions."""
        if not self.facts:
            return 1.0, []
        stems: Container[str] = (
            StemsOf(text) if self.language == ENGLISH else content_stem_set(text, self.language)
        )
        numbers = [fact.text for fact in self.facts if fact.kind == "number"]
        # a number fact is found by its (value, unit) pairs: only the text's quantities in those units count
        units = {unit for fact in numbers for _, unit in _quantities(fact)}
        quantities = (_quantities(text, units) if units else set()) if numbers else None
        missing = [
            fact for fact in self.facts if not fact.mentioned_in(text, stems, quantities, self.language)
        ]
        return round(1 - len(missing) / len(self.facts), 3), missing


def extract(body: str, title: str = "", language: str | None = None) -> BriefFacts:
    """Key terms and facts of a brief (its Markdown body and title), read in ``language`` (default:
    the one the brief is written in)."""
    lines = [ln for ln in body.splitlines() if not ln.lstrip().startswith("#")]
    prose = "\n".join(lines)
    language = language or text_language(f"{title}\n{prose}")
    terms = {s for s in content_stems(f"{title}\n{prose}", language) if not s.isdigit()}
    facts: list[Fact] = []
    seen: set[str] = set()

    def add(kind: str, text: str) -> None:
        key = text.lower()
        if key not in seen:
            seen.add(key)
            facts.append(Fact(kind, text))

    for match in _number_matches(prose):
        if match.group(2) or match.group(3) or match.group(4):
            add("number", " ".join(match.group(0).split()))
    for match in _CJK_NUMBER.finditer(prose):
        add("number", match.group(0).replace(" ", ""))
    for match in _QUANTITY.finditer(prose):
        add("number", " ".join(match.group(0).split()))
    for tech in technologies(prose, language):
        add("technology", tech)
    for word in _title_terms(title, language):
        add("term", word)
    asks = tuple(m.group(1).strip() for ln in lines if (m := _BULLET.match(ln)))
    return BriefFacts(title=title, terms=frozenset(terms), facts=tuple(facts), asks=asks, language=language)


def _title_terms(title: str, language: str) -> list[str]:
    """The title's words that say what the feature is (not stop words, not generic)."""
    if language == ENGLISH:
        found = [w.lower() for w in words(title)]
        return [w for w in found if w not in _STOP and len(w) > 2 and not is_generic(stem(w))]
    return [
        low
        for w in words_in(title, language)
        if len(low := w.lower()) > 1
        and (stems := content_stems(low, language))
        and not all(is_generic(s, language) for s in stems)
    ]


_UWORD = re.compile(r"[^\W\d_](?:[\w+#]|[.-](?=\w))*[\w+#]|[^\W\d_]")


def technologies(text: str, language: str = ENGLISH) -> list[str]:
    """Named technologies and products: words with inner capitals or all capitals, and capitalised
    words that do not start a sentence (``FastAPI``, ``PostgreSQL``, ``SMTP``, ``Stripe``). In German,
    where every noun is capitalised, only the first two kinds."""
    found: list[str] = []
    # CJK text has no spaces: its technologies are the Latin words in it (``使用FastAPI``)
    pattern = _UWORD if language in ("de", "es", "fr", "pt") else _WORD
    for match in pattern.finditer(text):
        word = match.group(0).strip(".")
        if len(word) < 2 or word.lower() in _STOP or not word.isascii():
            continue
        # a capital after a hyphen is a German compound's noun (E-Mail), not an inner capital (the word
        # is ASCII: one without a capital after its first letter has none)
        rest = word[1:]
        inner = rest != rest.lower() and any(c.isupper() and word[i] != "-" for i, c in enumerate(rest))
        capital = word[0].isupper()
        if not capital and not inner:
            continue
        if not inner and (language == "de" or _SENTENCE_START.search(text[: match.start()])):
            continue
        if is_generic(stem(word)) and not word.isupper():
            continue
        if word not in found:
            found.append(word)
    return found


_NUMBER_ONLY = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?([kK]\b|[mM]\b)?")
_PER = re.compile(r"per\s+([a-z]+)", re.IGNORECASE)


def _numbers(text: str) -> set[str]:
    out: set[str] = set()
    for match in _NUMBER_ONLY.finditer(text):
        value = match.group(1).replace(",", "")
        try:
            number = float(value)
        except ValueError:
            continue
        scale = {"k": 1_000, "m": 1_000_000}.get((match.group(2) or "").lower(), 1)
        out.add(f"{number * scale:g}")
    return out


@functools.lru_cache(maxsize=1024)
def _unit_key(unit: str) -> str:
    """How a quantity's unit is compared: its stem, one form of a German unit, or '%'."""
    unit = _UNIT_FORMS.get(unit.lower(), unit)
    return stem(unit) if unit != "%" else "%"


def _quantities(text: str, units: set[str] | None = None) -> set[tuple[str, str]]:
    """(value, unit stem) of every number with a unit: ``20k workspaces`` -> ("20000", "workspac");
    with ``units``, only those in one of these units (the values of the others are not worked out)."""
    out: set[tuple[str, str]] = set()
    for match in _number_matches(text):
        value, scale, unit, _ = match.groups()
        key = _unit_key(unit or scale or "")  # a unit word, else the scale letter ("20k")
        if units is not None and key not in units:
            continue
        for number in _numbers(value + (scale or "")):
            out.add((number, key))
    # its units are CJK characters: not in ASCII text, and not looked for when none of them is asked for
    cjk = not text.isascii() and (units is None or not units.isdisjoint(_CJK_UNITS))
    for match in _CJK_NUMBER.finditer(text) if cjk else ():
        if units is not None and match.group(2) not in units:
            continue
        for value in _numbers(match.group(1)):
            out.add((value, match.group(2)))
    return out


def _number_mentioned(
    fact: str, text: str, stems: Container[str] | None = None, quantities: set[tuple[str, str]] | None = None
) -> bool:
    """``stems`` and ``quantities``: the text's, when the caller already has them."""
    wanted = _quantities(fact)
    if wanted:
        return bool(wanted & (_quantities(text) if quantities is None else quantities))
    # "a few hundred invites per minute": the rate's unit and subject
    per = _PER.search(fact)
    if stems is None:
        stems = set(content_stems(text))
    subject = [s for s in content_stems(fact.split(" per ")[0]) if s not in {"few", "hundred", "thousand"}]
    if per is None:
        return False
    return stem(per.group(1)) in stems and all(s in stems for s in subject[-1:])


# -- off-topic ------------------------------------------------------------------------------------

#: a text needs this many meaningful, non-generic words before it can be called off-topic.
MIN_TERMS = 6
#: below this share of its specific terms known from the brief or earlier sections, a text is off-topic.
MIN_SHARE = 0.34


def off_topic(
    text: str, reference: set[str] | frozenset[str], *, strict: bool = True, language: str = ENGLISH
) -> str | None:
    """Why ``text`` is off-topic against ``reference`` stems (the brief and earlier sections), or None.

    A text with at least MIN_TERMS - 2 specific (non-generic) terms is off-topic when it shares none
    of them with the reference. With ``strict`` (the section that says what is built) it is also
    off-topic when it has MIN_TERMS or more, fewer than MIN_SHARE of them known, and it centres on an
    unknown one (its most repeated term, said at least twice, is absent from the reference).
    Short or generic texts are never flagged: they cannot be judged.
    """
    generic = _GENERIC_STEMS if language == ENGLISH else generic_stems(language)
    every = [s for s in content_stems(text, language) if s not in generic and not s.isdigit()]
    specific = list(dict.fromkeys(every))
    if len(specific) < MIN_TERMS - 2:
        return None
    known = [s for s in specific if s in reference]
    if known and not (strict and len(specific) >= MIN_TERMS and len(known) / len(specific) < MIN_SHARE):
        return None  # on topic whatever the text centres on: its terms are not counted
    unknown = [s for s in specific if s not in reference]
    centre, repeats = Counter(every).most_common(1)[0]
    centred = repeats >= 2 and centre not in reference
    if not known or centred:
        first = [centre] if centre in unknown else []
        sample = ", ".join(_display(text, first + [s for s in unknown if s != centre], language)[:4])
        return f"it is about {sample}, which neither the brief nor the earlier sections mention"
    return None


def _display(text: str, unknown: list[str], language: str = ENGLISH) -> list[str]:
    """The original words of ``text`` behind the ``unknown`` stems (for a readable reason)."""
    shown: list[str] = []
    wanted = set(unknown)
    if language != ENGLISH:  # stems of another language (CJK pairs) are shown as they are
        return [s for s in unknown if s in wanted][:8]
    for word in words(text):
        s = stem(word)
        if s in wanted and word.lower() not in (w.lower() for w in shown):
            shown.append(word.lower())
    return shown


def reference_terms(*texts: str, language: str = ENGLISH) -> set[str]:
    out: set[str] = set()
    for text in texts:
        out.update(content_stems(text, language))
    return out
