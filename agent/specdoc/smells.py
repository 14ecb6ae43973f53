"""Requirement smells: wording that makes a requirement ambiguous, untestable or several in one.

The catalogue follows ISO/IEC/IEEE 29148 (a requirement is unambiguous, verifiable, singular) and the
smells of Femmer et al. (JSS 2017) and Paska (Veizaga et al., 2023). Detection is lexicon and regex with
light heuristics (a ``than`` after a comparative, a bound after a universal quantifier, a noun after a
demonstrative); no model and no network, so lint stays fast over many specs.

``detect(text)`` returns the smells of one requirement; ``SMELLS`` maps each rule id to what it catches
and how to fix it; ``drafting_problems(text, path)`` gives the re-ask reasons for the few smells precise
enough to reject a drafted requirement (``DRAFTING_SMELLS``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from agent.specdoc.alternation import any_of

_Add = Callable[[str, str], None]

#: rule id -> (what it catches, how to fix it); lint's RULES and docs/signoff.md list the same rules.
SMELLS: dict[str, tuple[str, str]] = {
    "smell-subjective": (
        "subjective language: user-friendly, easy, intuitive, attractive, ...",
        "state an observable criterion (e.g. a task done in under N steps or minutes by a new user)",
    ),
    "smell-vague": (
        "vague adverbs and adjectives without a number: quickly, efficiently, adequate, robust, ...",
        "replace it with a measurable target: a number and a unit",
    ),
    "smell-loophole": (
        "a loophole that makes the requirement optional: if possible, as appropriate, where feasible, ...",
        "say exactly when it applies, or drop the escape clause",
    ),
    "smell-open-ended": (
        "an open-ended list: etc., and so on, such as, including but not limited to, ...",
        "list every item the requirement covers",
    ),
    "smell-superlative": (
        "a superlative: best, fastest, most secure, optimal, ...",
        "state the target to meet instead of the best possible",
    ),
    "smell-comparative": (
        "a comparative with no reference: faster, better, more reliable, ... without 'than ...'",
        "say what it is compared with ('than ...') and by how much",
    ),
    "smell-universal": (
        "a universal quantifier without a bound: always, never, all, every, any, ...",
        "bound it: which ones, under which conditions, or a number",
    ),
    "smell-weak-modal": (
        "a weak modal where an obligation is meant: should, may, might, could, ...",
        "use 'shall' (or 'must') for an obligation, or move it to a note if it is optional",
    ),
    "smell-pronoun": (
        "an ambiguous pronoun: it, this, they, ... whose referent is unclear",
        "name the thing instead of the pronoun",
    ),
    "smell-compound": (
        "several requirements in one: two actions joined by and/or, 'and/or', several 'shall'",
        "split it into one requirement per action",
    ),
    "smell-vague-quantity": (
        "a vague quantity: several, some, many, most, a few, a number of, ...",
        "give the number (or a minimum and maximum)",
    ),
    # judged in German and Spanish only (agent.specdoc.smell_lexicons); the English rules stay as measured
    "smell-passive": (
        "a passive without its agent: 'wird gelöscht', 'es enviado', ... (who does it?)",
        "name who or what does it (the service, the administrator), or add 'von/durch ...', 'por ...'",
    ),
}

#: the smells precise enough to reject a drafted requirement and re-ask the model.
DRAFTING_SMELLS = frozenset(
    {"smell-loophole", "smell-open-ended", "smell-vague-quantity", "smell-weak-modal"}
)


@dataclass(frozen=True)
class Smell:
    rule: str
    words: tuple[str, ...]
    #: how to fix it in the spec's language, where the catalogue's English advice does not fit
    fix: str = ""

    @property
    def message(self) -> str:
        listed = ", ".join(f"'{w}'" for w in self.words)
        what = SMELLS[self.rule][0].split(":", 1)[0]
        return f"{what} ({listed}); {self.fix or SMELLS[self.rule][1]}"


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


# a word ending like an adjective or adverb ("more reliable", "most secure"; not "more users")
_ADJECTIVE_END = r"(?:ure|ble|ive|ent|ant|al|ful|ous|ic|ly|cise|ate)\b"
_SUBJECTIVE = _words(
    r"user[- ]friendly",
    r"customer[- ]friendly",
    r"easy",
    r"easily",
    r"easier",
    r"easiest",
    r"intuitive(?:ly)?",
    r"simple",
    r"simply",
    r"simpler",
    r"convenient(?:ly)?",
    r"attractive",
    r"appealing",
    r"nice",
    r"pleasant",
    r"elegant(?:ly)?",
    r"beautiful(?:ly)?",
    r"straightforward",
    r"seamless(?:ly)?",
    r"ergonomic(?:ally)?",
    r"comfortable",
    r"clean",
    r"modern",
    r"friendly",
    r"pretty",
    r"polished",
    r"self[- ]explanatory",
)
_VAGUE = _words(
    r"quick(?:ly)?",
    r"fast",
    r"rapid(?:ly)?",
    r"efficient(?:ly)?",
    r"adequate(?:ly)?",
    r"sufficient(?:ly)?",
    r"robust(?:ly)?",
    r"reasonabl[ey]",
    r"timely",
    r"regularly",
    r"periodically",
    r"frequently",
    r"occasionally",
    r"in the (?:near )?future",
    r"minimal",
    r"gracefully",
    r"good",
    r"highly available",
    r"high[- ]performance",
    r"performant",
    r"scalable",
    r"flexible",
    r"large(?! number)",
    r"small",
    r"significant(?:ly)?",
    r"readable",
    r"responsive",
    r"reliabl[ey]",
    r"secure(?:ly)?",
    r"lightweight",
    r"acceptable",
    r"proper(?:ly)?",
    r"smooth(?:ly)?",
    r"normal",
    r"instant(?:ly)?",
    r"low latency",
    r"high throughput",
    r"as soon as possible",
    r"asap",
    r"in a timely manner",
    r"best practices?",
    r"state[- ]of[- ]the[- ]art",
)
_LOOPHOLE = _words(
    r"(?:if|where|when|whenever) (?:possible|feasible|practical|practicable|appropriate|applicable|"
    r"necessary|needed|required|relevant|desired)",
    r"as (?:appropriate|applicable|necessary|needed|required|desired|far as possible|much as possible)",
    r"to the (?:extent|degree) (?:possible|practical|practicable|feasible)",
    r"unless otherwise (?:specified|stated|agreed|noted|required)",
    r"at the discretion of",
)
_OPEN_ENDED = re.compile(
    r"\betc\b\.?|\bet cetera\b|\band so (?:on|forth)\b|\bincluding,? but not limited to\b|\bamong others\b"
    r"|\b(?:and|or) (?:others|similar|the like)\b|\bsuch as\b|\be\.g\.|\b(?:and|or|any|support) other\b",
    re.IGNORECASE,
)
_SUPERLATIVE = re.compile(
    r"\b(?:best|worst|fastest|quickest|slowest|easiest|simplest|safest|strongest|cheapest|optimal(?:ly)?|"
    r"optimum|ideal(?:ly)?|best[- ]in[- ]class|world[- ]class|maximi[sz]e[sd]?|minimi[sz]e[sd]?)\b"
    r"|\b(?:most|least) (?!recent|recently|of\b|one\b|\d)"
    r"[a-z]+" + _ADJECTIVE_END,
    re.IGNORECASE,
)
_COMPARATIVE = re.compile(
    r"\b(?:faster|slower|quicker|better|worse|easier|simpler|cheaper|safer|stronger|smaller|larger|greater|"
    r"fewer|less|improved|enhanced)\b"
    r"|(?<!or )\b(?:higher|lower)\b(?![- ]?case)"
    r"|\bmore (?!than)[a-z]+" + _ADJECTIVE_END,
    re.IGNORECASE,
)
_REFERENCE = re.compile(
    r"\bthan\b|\bcompared (?:to|with)\b|\brelative to\b|\bversus\b|\bvs\.?(?=\s)", re.IGNORECASE
)
_UNIVERSAL = re.compile(
    r"\b(?:always|never|at all times|under all (?:circumstances|conditions)|in all cases|everything|"
    r"everyone|everybody|anyone|anything|anywhere|anytime|nothing|all|every|any)\b",
    re.IGNORECASE,
)
_UNIVERSAL_BOUND = re.compile(
    r"\b(?:when|whenever|while|unless|before|after|if|during|both|simultaneously|at the same time|until|"
    r"without)\b",
    re.IGNORECASE,
)
_RESTRICTING = frozenset(
    [
        "in",
        "of",
        "within",
        "listed",
        "defined",
        "specified",
        "named",
        "that",
        "which",
        "whose",
        "belonging",
        "configured",
        "assigned",
        "registered",
        "selected",
        "matching",
        "received",
        "sent",
        "stored",
        "created",
        "open",
        "pending",
        "active",
    ]
)
_SCOPING = frozenset(["of", "in", "to", "from", "within", "that", "which", "whose", "on"])
_WEAK_MODAL = re.compile(
    r"\b(?:should|may|might|could|ought to|would)\b(?! \d)"
    # "the system can": a capability, not an obligation; not "used by the application can ..." (the
    # system is a preposition's object there, the subject comes before it: "No API ... can update")
    r"|(?<!\bby the )(?<!\bof the )(?<!\bto the )(?<!\bin the )(?<!\bfrom the )(?<!\bfor the )"
    r"\b(?:system|application|software|product|service|tool|platform|app)\s+can\b",
    re.IGNORECASE,
)
_RATIONALE = re.compile(r"\b(?:rationale|note|because|since|so that|in order that)\b.*", re.IGNORECASE)
_PRONOUN_START = re.compile(r"^(?:it|they|them|he|she)\b", re.IGNORECASE)
_DEMONSTRATIVE_START = re.compile(
    r"^(?:this|that|these|those)\s+(shall|must|will|should|may|might|can|could|is|are|was|were|has|have|"
    r"needs?|includes?|requires?|means|applies|allows)\b",
    re.IGNORECASE,
)
_CLAUSE_PRONOUN = re.compile(r"(?:,|;|\band|\bor|\bthen|\bwhich|\bwhere)\s+(it|they)\s+(?=[a-z]+)", re.I)
_NOUN_PHRASE = re.compile(r"\b(?:the|a|an)\s+[a-z][\w-]*", re.IGNORECASE)
_OBLIGATION = re.compile(r"\b(?:shall|must|will)\b", re.IGNORECASE)
_AND_OR = re.compile(r"\band/or\b", re.IGNORECASE)
_JOINED_ACTION = re.compile(
    r"\b(?:and|or)\s+(?!the\b|a\b|an\b)([a-z]+)\s+(?:the|a|an|each|every|all|its|their|them|it|his|her|any|"
    r"this|these|those|\d)\b",
    re.IGNORECASE,
)
_VAGUE_QUANTITY = re.compile(
    r"\b(?:several|some|many|numerous|various|multiple|a few|few|a number of|a large number of|"
    r"a (?:small|large|great) amount of|a lot of|lots of|a couple of|a majority of|a variety of|plenty of|"
    r"countless)\b(?!-)"
    # "most users" is vague; "the 20 most used pages" is a number
    r"|(?<!\bat )(?<!\d )\bmost\b(?! recent| recently)(?! [a-z]+" + _ADJECTIVE_END + r")"
    r"(?= (?:of\b|[a-z]+s\b|[a-z]+ [a-z]+s\b))",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_GRADED = re.compile(r"\b(?:more|most|less|least)\s+$", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.;!?])\s+(?=[A-Za-z])")
#: what ``_SENTENCE`` needs (its first character is what ``re`` skips to)
_SENTENCE_END = re.compile(r"[.;!?]\s")
_TOKEN = re.compile(r"[A-Za-z][\w-]*")
_FUNCTION_WORDS = frozenset(
    [
        "shall",
        "must",
        "will",
        "should",
        "may",
        "might",
        "can",
        "could",
        "is",
        "are",
        "be",
        "been",
        "was",
        "were",
        "has",
        "have",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "by",
        "at",
        "from",
        "and",
        "or",
        "not",
        "no",
        "as",
        "it",
        "they",
        "this",
        "that",
    ]
)


#: a word every match of the expression contains (lower case): a requirement holding none of them is not
#: searched with it. Only for ASCII text: re's case folding maps a few other letters onto ASCII ones.
_NEEDS: dict[re.Pattern[str], tuple[str, ...]] = {
    _SUBJECTIVE: (
        "friendly",
        "easy",
        "easi",
        "intuitive",
        "simpl",
        "convenient",
        "attractive",
        "appealing",
        "nice",
        "pleasant",
        "elegant",
        "beautiful",
        "straightforward",
        "seamless",
        "ergonomic",
        "comfortable",
        "clean",
        "modern",
        "pretty",
        "polished",
        "explanatory",
    ),
    _VAGUE: (
        "quick",
        "fast",
        "rapid",
        "efficient",
        "adequate",
        "sufficient",
        "robust",
        "reasonabl",
        "timely",
        "regularly",
        "periodically",
        "frequently",
        "occasionally",
        "future",
        "minimal",
        "gracefully",
        "good",
        "highly",
        "performan",
        "scalable",
        "flexible",
        "large",
        "small",
        "significant",
        "readable",
        "responsive",
        "reliabl",
        "secure",
        "lightweight",
        "acceptable",
        "proper",
        "smooth",
        "normal",
        "instant",
        "latency",
        "throughput",
        "possible",
        "asap",
        "practice",
        "state",
    ),
    _SUPERLATIVE: (
        "best",
        "worst",
        "fastest",
        "quickest",
        "slowest",
        "easiest",
        "simplest",
        "safest",
        "strongest",
        "cheapest",
        "optim",
        "ideal",
        "world",
        "maximi",
        "minimi",
        "most",
        "least",
    ),
    _COMPARATIVE: (
        "faster",
        "slower",
        "quicker",
        "better",
        "worse",
        "easier",
        "simpler",
        "cheaper",
        "safer",
        "stronger",
        "smaller",
        "larger",
        "greater",
        "fewer",
        "less",
        "improved",
        "enhanced",
        "higher",
        "lower",
        "more",
    ),
    _WEAK_MODAL: ("should", "may", "might", "could", "ought", "would", "can"),
    _VAGUE_QUANTITY: (
        "several",
        "some",
        "many",
        "numerous",
        "various",
        "multiple",
        "few",
        "number",
        "amount",
        "lot",
        "couple",
        "majority",
        "variety",
        "plenty",
        "countless",
        "most",
    ),
    _RATIONALE: ("rationale", "note", "because", "since", "so that", "in order that"),
    _LOOPHOLE: (
        "possible",
        "feasible",
        "practica",
        "appropriate",
        "applicable",
        "necessary",
        "needed",
        "required",
        "relevant",
        "desired",
        "otherwise",
        "discretion",
    ),
    _OPEN_ENDED: (
        "etc",
        "cetera",
        "and so ",
        "not limited",
        "other",
        "similar",
        "the like",
        "such as",
        "e.g.",
    ),
}


#: one expression per filtered pattern (factored by first letters: the filters run on every requirement of
#: every spec), and one for all of them: most requirements contain no needle at all
_NEEDLES = {pattern: any_of(words) for pattern, words in _NEEDS.items()}
_ANY_NEEDLE = any_of(tuple(word for words in _NEEDS.values() for word in words))
#: what ASCII text must hold (in lower case) for ``_UNIVERSAL`` to match in it: each of its words has one
#: (apart from the filter above: these words are in most requirements, and would open it for all rules)
_UNIVERSAL_NEEDLE = any_of(("always", "never", "all", "every", "any", "nothing"))


def detect(text: str) -> list[Smell]:
    """Every smell in one requirement's text, one Smell per rule (sorted by rule id)."""
    found: dict[str, list[str]] = {}

    def add(rule: str, word: str) -> None:
        words = found.setdefault(rule, [])
        if word.lower() not in words:
            words.append(word.lower())

    lowered = text.lower() if text.isascii() else None
    # a needle in the body is one in the text too: the rationale cut ends at a line end or the text's end
    some_needle = lowered is None or _ANY_NEEDLE.search(lowered) is not None
    cut = lowered is None or (some_needle and _NEEDLES[_RATIONALE].search(lowered) is not None)
    body = (_RATIONALE.sub("", text) or text) if cut else text
    lower = lowered if body is text else body.lower() if body.isascii() else None

    def searched(pattern: re.Pattern[str]) -> bool:  # asked only when some needle is in the text
        return lower is None or _NEEDLES[pattern].search(lower) is not None

    # the filtered expressions are asked for only when the text holds some needle (most have none)
    if some_needle:
        for m in _SUBJECTIVE.finditer(body) if searched(_SUBJECTIVE) else ():
            add("smell-subjective", m.group(0))
        if searched(_VAGUE) and not _DIGIT.search(body):
            for m in _VAGUE.finditer(body):
                if not _GRADED.search(body, 0, m.start()):  # "more reliable", "most secure": another smell
                    add("smell-vague", m.group(0))
        for m in _LOOPHOLE.finditer(body) if searched(_LOOPHOLE) else ():
            add("smell-loophole", m.group(0))
        for m in _OPEN_ENDED.finditer(body) if searched(_OPEN_ENDED) else ():
            add("smell-open-ended", m.group(0).rstrip("."))
        for m in _SUPERLATIVE.finditer(body) if searched(_SUPERLATIVE) else ():
            add("smell-superlative", m.group(0))
    comparative = some_needle and searched(_COMPARATIVE)
    universal = lower is None or _UNIVERSAL_NEEDLE.search(lower) is not None
    # most requirements are one sentence: split only a text with a sentence end before white space
    for sentence in _SENTENCE.split(body) if _SENTENCE_END.search(body) else (body,):
        for m in _COMPARATIVE.finditer(sentence) if comparative else ():
            if not _REFERENCE.search(sentence):
                add("smell-comparative", m.group(0))
        if universal:
            _universal(sentence, add)
        _pronoun(sentence, add)
    for m in _WEAK_MODAL.finditer(body) if some_needle and searched(_WEAK_MODAL) else ():
        if not (m.group(0).lower() == "may" and text[m.start()] == "M" and m.start() > 0):
            add("smell-weak-modal", m.group(0).split()[-1] if "can" in m.group(0).lower() else m.group(0))
    _compound(body, add, lower)
    for m in _VAGUE_QUANTITY.finditer(body) if some_needle and searched(_VAGUE_QUANTITY) else ():
        add("smell-vague-quantity", m.group(0))
    return [Smell(rule, tuple(words)) for rule, words in sorted(found.items())]


def _universal(sentence: str, add: _Add) -> None:
    if _DIGIT.search(sentence) or _UNIVERSAL_BOUND.search(sentence):
        return
    for m in _UNIVERSAL.finditer(sentence):
        word = m.group(0).lower()
        if word in ("all", "every", "any"):
            following = [t.lower() for t in _TOKEN.findall(sentence[m.end() :])[:2]]
            if following and (following[0] in _RESTRICTING or (following[1:] and following[1] in _SCOPING)):
                continue  # "all of the", "any change to the tariff table": a scoped set
            if (
                len(following) == 2
                and not (set(following) & _FUNCTION_WORDS)
                and following[1] not in ("other",)
            ):
                continue  # "all API requests", "every pending invitation": a named set
        add("smell-universal", m.group(0))


#: what ASCII text must hold for these expressions to be searched in it (tests switch the filters off)
_CLAUSE_PRONOUNS = frozenset(("it", "they"))
_AND_OR_TEXT = "and/or"


def _pronoun(sentence: str, add: _Add) -> None:
    stripped = sentence.strip()
    if m := _PRONOUN_START.match(stripped):
        add("smell-pronoun", m.group(0))
    elif m := _DEMONSTRATIVE_START.match(stripped):
        add("smell-pronoun", stripped.split()[0])
    if sentence.isascii() and _CLAUSE_PRONOUNS.isdisjoint(sentence.lower().split()):
        return  # the expression's pronoun stands between white space: one of the sentence's words
    for m in _CLAUSE_PRONOUN.finditer(sentence):
        if len(_NOUN_PHRASE.findall(sentence[: m.start()])) >= 2:
            add("smell-pronoun", m.group(1))


#: ``_OBLIGATION``'s words: ASCII text without one of them is not searched
_OBLIGATION_WORDS = ("shall", "must", "will")


def _compound(body: str, add: _Add, lower: str | None) -> None:
    """``lower``: the body in lower case when it is ASCII (else None)."""
    for m in _AND_OR.finditer(body) if lower is None or _AND_OR_TEXT in lower else ():
        add("smell-compound", m.group(0))
    searched = lower is None or any(word in lower for word in _OBLIGATION_WORDS)
    obligations = _OBLIGATION.findall(body) if searched else []
    if len(obligations) >= 2:
        add("smell-compound", f"{len(obligations)} x {obligations[0].lower()}")
    if obligations:
        after = body[(body.lower() if lower is None else lower).find(obligations[0].lower()) :]
        for m in _JOINED_ACTION.finditer(after):
            if m.group(1).lower() not in _FUNCTION_WORDS:
                add("smell-compound", m.group(0).split()[0] + " " + m.group(1))
                break


def drafting_problems(text: str, path: str, *, rules: frozenset[str] = DRAFTING_SMELLS) -> list[str]:
    """Re-ask reasons for a drafted requirement: only the precise smells (``DRAFTING_SMELLS``) count."""
    return [f"{path}: {smell.message}" for smell in detect(text) if smell.rule in rules]
