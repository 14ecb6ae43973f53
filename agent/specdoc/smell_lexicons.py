"""Requirement smells in other languages than English, and choosing the rules by a spec's language.

``smells.py`` holds the catalogue (``SMELLS``) and the English rules. Here are the German and Spanish
rules: the same smells, written from each language's own words and grammar (German adjective endings,
capitalised nouns, verb-final clauses; Spanish ``más ... que``, infinitives in -ar/-er/-ir), plus
``smell-passive`` (a passive without its agent: *wird gelöscht*, *es enviado*), which only these two
languages judge (English keeps its rules and figures as they were). The requirement keywords are each
language's: *muss / soll / darf nicht*, *debe / no debe*.

``detect_in(text, language)`` is the one entry point by language; ``judged_rules(language)`` says what
a language's rules cover, ``smell_notice(language)`` what they cannot judge (said once by lint).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from agent.specdoc.language import ENGLISH, language_name
from agent.specdoc.smells import SMELLS, Smell, detect

#: a passive without its agent: judged in the languages below only
PASSIVE = "smell-passive"


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _de(stem: str) -> str:
    """A German adjective with its endings (not -er: that is the comparative's)."""
    return stem + r"(?:e|es|em|en)?"


@dataclass(frozen=True)
class Lexicon:
    """One language's smell rules: word patterns, and what bounds or refers where one is needed."""

    subjective: re.Pattern[str]
    vague: re.Pattern[str]
    loophole: re.Pattern[str]
    open_ended: re.Pattern[str]
    superlative: re.Pattern[str]
    comparative: re.Pattern[str]
    reference: re.Pattern[str]  # what a comparative is compared with ("als", "que")
    universal: re.Pattern[str]
    bound: re.Pattern[str]  # what bounds a universal quantifier ("wenn", "cuando")
    weak_modal: re.Pattern[str]
    pronoun: re.Pattern[str]
    obligation: re.Pattern[str]
    joined_action: re.Pattern[str]
    vague_quantity: re.Pattern[str]
    passive: re.Pattern[str]
    agent: re.Pattern[str]  # the agent of a passive ("von", "durch", "por")
    #: text just before a word that grades it ("más rápido": a comparative, not a vague word)
    graded: re.Pattern[str]
    #: text just before a comparative that makes it a superlative ("la mejor", "el transporte más")
    superlative_before: re.Pattern[str]
    #: rule -> how to fix it in this language, where the catalogue's advice names English words
    fixes: dict[str, str]


#: a German past participle, lower case (nouns are capitalised): gelöscht, versendet, protokolliert
_PARTICIPLE = r"(?-i:(?:[a-zäöüß]*ge[a-zäöüß]+(?:t|en)|(?:ver|be|er|ent|zer|über)[a-zäöüß]+t|[a-zäöüß]+iert))"

GERMAN = Lexicon(
    subjective=_words(
        *(_de(s) for s in ("benutzerfreundlich", "nutzerfreundlich", "bedienerfreundlich", "intuitiv")),
        *(_de(s) for s in ("bequem", "komfortabel", "ansprechend", "attraktiv", "schön", "elegant")),
        *(_de(s) for s in ("übersichtlich", "nahtlos", "selbsterklärend", "modern", "angenehm")),
        *(_de(s) for s in ("ergonomisch", "einfach", "verständlich", "leicht verständlich")),
        r"leicht zu bedienen",
        r"leicht bedienbar(?:e|es|em|en)?",
    ),
    vague=_words(
        *(_de(s) for s in ("schnell", "zügig", "rasch", "effizient", "angemessen", "ausreichend")),
        *(_de(s) for s in ("hinreichend", "robust", "zeitnah", "performant", "skalierbar", "flexibel")),
        *(_de(s) for s in ("zuverlässig", "stabil", "reibungslos", "sofortig", "umgehend", "regelmäßig")),
        *(_de(s) for s in ("hochverfügbar", "leistungsfähig", "ordnungsgemäß", "sinnvoll", "sicher")),
        *(_de(s) for s in ("flexibl", "geeignet", "gering")),
        r"sofort",
        r"gelegentlich",
        r"häufig",
        r"in kürze",
        r"möglichst (?:schnell|bald|früh)",
        r"best practices?",
        r"nach dem stand der technik",
        r"geringe latenz",
        r"hohe[nmr]? durchsatz",
    ),
    loophole=_words(
        r"(?:falls|wenn|sofern|soweit) (?:möglich|nötig|notwendig|erforderlich|sinnvoll|zutreffend|gewünscht"
        r"|machbar|praktikabel|angebracht)",
        r"nach möglichkeit",
        r"(?:je nach|bei) bedarf",
        r"gegebenenfalls",
        r"ggf\.?",
        r"im rahmen des möglichen",
        r"so weit wie möglich",
        r"nach (?:eigenem )?ermessen",
        r"sofern nicht anders (?:angegeben|vereinbart|festgelegt)",
    ),
    open_ended=_words(
        r"usw\.?",
        r"etc\.?",
        r"und so weiter",
        r"unter anderem",
        r"u\.\s?a\.",
        r"(?:und|oder) ähnliche[sn]?",
        r"u\.\s?ä\.",
        r"beispielsweise",
        r"z\.\s?b\.",
        r"zum beispiel",
        r"wie etwa",
        r"einschließlich,? aber nicht beschränkt auf",
        r"und andere",
    ),
    superlative=_words(
        r"am (?:besten|schnellsten|sichersten|einfachsten|günstigsten|zuverlässigsten|wenigsten|meisten)",
        r"beste[nmrs]?",
        _de("optimal"),
        _de("bestmöglich"),
        r"ideal(?:e|es|em|en|erweise)?",
        r"maximier(?:en|t|te)",
        r"minimier(?:en|t|te)",
        _de("höchstmöglich"),
        _de("schnellstmöglich"),
        r"(?:schnellste|sicherste|einfachste|zuverlässigste|günstigste)[nmrs]?",
    ),
    comparative=_words(
        r"schneller(?:e|es|em|en)?",
        r"langsamer(?:e|es|em|en)?",
        r"besser(?:e|es|em|en)?",
        r"schlechter(?:e|es|em|en)?",
        r"einfacher(?:e|es|em|en)?",
        r"sicherer(?:e|es|em|en)?",
        r"zuverlässiger(?:e|es|em|en)?",
        r"stabiler(?:e|es|em|en)?",
        r"günstiger(?:e|es|em|en)?",
        r"höher(?:e|es|em|en)?",
        r"niedriger(?:e|es|em|en)?",
        r"geringer(?:e|es|em|en)?",
        r"größer(?:e|es|em|en)?",
        r"kleiner(?:e|es|em|en)?",
        r"mehr",
        r"weniger",
        r"verbessert(?:e|es|em|en)?",
    ),
    reference=_words(r"als", r"gegenüber", r"im vergleich (?:zu|mit)", r"verglichen mit"),
    universal=_words(
        r"immer",
        r"stets",
        r"nie",
        r"niemals",
        r"jederzeit",
        r"überall",
        r"ausnahmslos",
        r"in allen fällen",
        r"unter allen umständen",
        r"alles",
        r"jede[rsn]?(?=\s+(?:muss|soll|darf|kann|wird|ist)\b|[.,;]|$)",
        r"alle(?=\s+(?:müssen|sollen|dürfen|können|werden|sind)\b|[.,;]|$)",
    ),
    bound=_words(
        r"wenn",
        r"falls",
        r"sobald",
        r"solange",
        r"während",
        r"bevor",
        r"nachdem",
        r"bis",
        r"ohne",
        r"außer",
        r"sofern",
    ),
    weak_modal=re.compile(
        r"(?<!\w)(?:sollte|sollten|könnte|könnten|dürfte|dürften|möglicherweise|eventuell|würde|würden|wäre"
        r"|wären|wünschenswert)(?!\w)"
        r"|(?<!\w)(?:System|Dienst|Anwendung|Plattform|Software|Werkzeug|App)\s+kann(?!\w)",
        re.IGNORECASE,
    ),
    pronoun=re.compile(
        r"^(?:Es|Er|Dies|Das|Diese[rs]?)\s+(?:muss|soll|sollte|wird|kann|darf|ist|sind|hat|enthält|benötigt"
        r"|erfordert|gilt|erlaubt)(?!\w)"
        r"|,\s+(?:es|er)\s+(?:muss|soll|wird|darf)(?!\w)"
    ),
    obligation=_words(r"muss", r"müssen", r"soll", r"sollen", r"darf", r"dürfen"),
    # two verbs joined at the end of a German clause: "... senden und ... protokollieren"
    joined_action=re.compile(
        r"(?-i:\b[a-zäöüß]+(?:en|ern|eln))\s+und\s+(?:\S+\s+){0,5}?(?-i:[a-zäöüß]+(?:en|ern|eln))\s*[.!]?\s*$"
    ),
    vague_quantity=_words(
        r"(?<!oder )mehrere[nmrs]?",
        r"einige[nmrs]?",
        r"viele[nmrs]?",
        r"zahlreiche[nmrs]?",
        r"diverse[nmrs]?",
        r"verschiedene[nmrs]?",
        r"manche[nmrs]?",
        r"etliche[nmrs]?",
        r"eine reihe von",
        r"ein paar",
        r"die meisten",
        r"wenige[nms]?",  # not "weniger": a comparative
        r"eine (?:große|hohe) anzahl",
        r"eine vielzahl",
    ),
    # wird/werden + a participle (lower case: German nouns are capitalised) closing the clause, or a
    # modal's passive infinitive ("muss ... gesperrt werden")
    passive=re.compile(
        r"\b(?:wird|werden|wurde|wurden)\b(?:\s+[^\s,;.]+){0,8}?\s+" + _PARTICIPLE + r"(?=\s*[.,;]|\s*$)"
        r"|" + _PARTICIPLE + r"\s+werden(?=\s*[.,;]|\s*$)",
        re.IGNORECASE,
    ),
    agent=_words(r"von", r"vom", r"durch"),
    graded=re.compile(r"\b(?:mehr|weniger|am)\s+$", re.IGNORECASE),
    superlative_before=re.compile(r"(?!)"),
    fixes={
        "smell-weak-modal": "use 'muss' (or 'soll') for an obligation, 'darf nicht' for a prohibition, "
        "or move it to a note if it is optional",
        "smell-comparative": "say what it is compared with ('als ...') and by how much",
    },
)

SPANISH = Lexicon(
    subjective=_words(
        r"fácil(?:es|mente)?",
        r"intuitiv[oa]s?",
        r"intuitivamente",
        r"sencill[oa]s?",
        r"sencillamente",
        r"amigable(?:s)?",
        r"atractiv[oa]s?",
        r"agradable(?:s)?",
        r"elegante(?:s|mente)?",
        r"cómod[oa]s?",
        r"cómodamente",
        r"modern[oa]s?",
        r"fluid[oa]s?",
        r"bonit[oa]s?",
        r"visualmente atractiv[oa]s?",
        r"fácil de usar",
    ),
    vague=_words(
        r"rápid[oa]s?",
        r"rápidamente",
        r"eficiente(?:s|mente)?",
        r"adecuad[oa]s?",
        r"adecuadamente",
        r"suficiente(?:s|mente)?",
        r"robust[oa]s?",
        r"oportun[oa]s?",
        r"oportunamente",
        r"regularmente",
        r"periódicamente",
        r"frecuentemente",
        r"escalable(?:s)?",
        r"flexible(?:s)?",
        r"fiable(?:s)?",
        r"confiable(?:s)?",
        r"segur[oa]s?",
        r"de forma segura",
        r"estable(?:s)?",
        r"inmediat[oa]s?",
        r"inmediatamente",
        r"lo antes posible",
        r"a la mayor brevedad",
        r"buenas prácticas",
        r"de vanguardia",
        r"baja latencia",
        r"alto rendimiento",
        r"alta disponibilidad",
        r"correctamente",
        r"razonable(?:s|mente)?",
    ),
    loophole=_words(
        r"si (?:es|fuera|resulta) (?:posible|necesario|factible|conveniente|oportuno)",
        r"(?:cuando|donde) (?:sea|resulte) (?:posible|necesario|factible|conveniente|oportuno|apropiado)",
        r"en la medida de lo posible",
        r"si procede",
        r"cuando proceda",
        r"según (?:corresponda|proceda|sea necesario)",
        r"a discreción de",
        r"salvo que se indique lo contrario",
        r"en lo posible",
    ),
    open_ended=_words(
        r"etc\.?",
        r"etcétera",
        r"entre otros",
        r"entre otras",
        r"y así sucesivamente",
        r"(?:como|tales como) por ejemplo",
        r"p\.\s?ej\.",
        r"por ejemplo",
        r"incluyendo,? pero no limitado a",
        r"(?:y|u|o) similares",
        r"(?:y|u|o) otr[oa]s",
        r"tales como",
    ),
    superlative=_words(
        r"(?:el|la|los|las) mejor(?:es)?",
        r"óptim[oa]s?",
        r"óptimamente",
        r"ideal(?:es|mente)?",
        r"maximiz(?:ar|a|an)",
        r"minimiz(?:ar|a|an)",
        r"(?:el|la|los|las) (?:[a-záéíóúñ]+ )?(?:más|menos) (?!de\b)[a-záéíóúñ]+",
        r"lo más [a-záéíóúñ]+ posible",
        r"rapidísim[oa]s?",
    ),
    comparative=_words(
        r"más (?!de\b|del\b)[a-záéíóúñ]+",
        r"(?<!al )(?<!lo )menos (?!de\b|del\b)[a-záéíóúñ]+",  # not "al menos", "por lo menos": a bound
        r"mejor(?:es)?",
        r"peor(?:es)?",
        r"mayor(?:es)?",
        r"menor(?:es)?",
        r"mejorad[oa]s?",
    ),
    reference=_words(r"que", r"en comparación con", r"respecto (?:a|de)", r"frente a", r"comparad[oa]s? con"),
    universal=_words(
        r"siempre",
        r"nunca",
        r"jamás",
        r"en todo momento",
        r"en todos los casos",
        r"bajo cualquier circunstancia",
        r"todo(?=\s+(?:debe|se|es)\b|[.,;]|$)",
        r"cualquiera",
        r"cualquier(?=\s+(?:cosa|momento|lugar)\b)",
    ),
    bound=_words(
        r"cuando",
        r"si",
        r"mientras",
        r"antes",
        r"después",
        r"hasta",
        r"sin",
        r"salvo",
        r"excepto",
        r"durante",
    ),
    weak_modal=re.compile(
        r"(?<!\w)(?:debería|deberían|podría|podrían|puede que|quizás?|tal vez|sería deseable|convendría"
        r"|posiblemente|idealmente)(?!\w)"
        r"|(?<!\w)(?:sistema|servicio|aplicación|plataforma|herramienta|software)\s+(?:puede|podrá)(?!\w)",
        re.IGNORECASE,
    ),
    pronoun=re.compile(
        r"^(?:Esto|Esta|Este|Estos|Estas|Ello|Él|Ella|Ellos|Eso)\s+(?:debe|deberá|será|es|está|puede|tiene"
        r"|incluye|requiere|permite)(?!\w)"
        r"|^(?:Debe|Deberá|Deben|Tiene que)(?!\w)"
    ),
    obligation=_words(r"debe", r"deben", r"deberá", r"deberán", r"tiene que", r"tienen que", r"ha de"),
    joined_action=re.compile(
        r"\b(?:debe|deben|deberá|deberán)\s+(?:\S+\s+){0,2}?[a-záéíóúñ]+(?:ar|er|ir)(?:se|lo|la|los|las)?\b"
        r"(?:\s+\S+){1,8}?\s+(?:y|e)\s+[a-záéíóúñ]+(?:ar|er|ir)(?:se|lo|la|los|las)?\b",
        re.IGNORECASE,
    ),
    vague_quantity=_words(
        r"(?<!o )vari[oa]s",
        r"algun[oa]s",
        r"much[oa]s",
        r"numeros[oa]s",
        r"divers[oa]s",
        r"unos cuantos",
        r"unas cuantas",
        r"la mayoría",
        r"poc[oa]s",
        r"gran cantidad de",
        r"un número de",
        r"multitud de",
    ),
    # ser + participle ("es enviado", "deben ser almacenados"); an impersonal "se debe(n)"
    passive=re.compile(
        r"\b(?:es|son|será|serán|fue|fueron|sea|sean|ser)\s+(?:\w+mente\s+)?"
        r"[a-záéíóúñ]+(?:ado|ada|ados|adas|ido|ida|idos|idas)\b"
        r"|\bse\s+(?:debe|deben|deberá|deberán|tiene que|tienen que)\b",
        re.IGNORECASE,
    ),
    agent=_words(r"por"),
    graded=re.compile(r"\b(?:más|menos)\s+$", re.IGNORECASE),
    superlative_before=re.compile(r"\b(?:el|la|los|las|lo)\s+(?:[a-záéíóúñ]+\s+)?$", re.IGNORECASE),
    fixes={
        "smell-weak-modal": "use 'debe' for an obligation, 'no debe' for a prohibition, or move it to a "
        "note if it is optional",
        "smell-comparative": "say what it is compared with ('que ...') and by how much",
    },
)

LEXICONS: dict[str, Lexicon] = {"de": GERMAN, "es": SPANISH}
_DIGIT = re.compile(r"\d")
_SENTENCE = re.compile(r"(?<=[.;!?])\s+(?=\w)")
_RATIONALE = {
    "de": re.compile(r"\b(?:Begründung|Hinweis|weil|da|damit|sodass|so dass)\b.*", re.IGNORECASE),
    "es": re.compile(r"\b(?:justificación|nota|porque|ya que|puesto que|para que|de modo que)\b.*", re.I),
}


def judged_rules(language: str) -> frozenset[str]:
    """The smell rules that judge a spec written in ``language``."""
    if language == ENGLISH:
        return frozenset(SMELLS) - {PASSIVE}
    if language in LEXICONS:
        return frozenset(SMELLS)
    return frozenset()


def smell_notice(language: str) -> str | None:
    """What the smell rules cannot judge in ``language`` (None: they judge all of their rules)."""
    if judged_rules(language):
        return None
    return (
        f"the requirement smell rules do not judge {language_name(language)} text: none of them ran "
        "(they know English, German and Spanish; docs/languages.md)"
    )


def detect_in(text: str, language: str = ENGLISH) -> list[Smell]:
    """Every smell of one requirement written in ``language`` (English: ``smells.detect``)."""
    if language == ENGLISH:
        return detect(text)
    lexicon = LEXICONS.get(language)
    if lexicon is None:
        return []
    return _detect(text, lexicon, _RATIONALE[language])


def _detect(text: str, lex: Lexicon, rationale: re.Pattern[str]) -> list[Smell]:
    found: dict[str, list[str]] = {}

    def add(rule: str, word: str) -> None:
        words = found.setdefault(rule, [])
        if word.lower() not in words:
            words.append(word.lower())

    body = rationale.sub("", text) or text
    simple: list[tuple[str, re.Pattern[str]]] = [
        ("smell-subjective", lex.subjective),
        ("smell-loophole", lex.loophole),
        ("smell-open-ended", lex.open_ended),
        ("smell-superlative", lex.superlative),
        ("smell-weak-modal", lex.weak_modal),
        ("smell-vague-quantity", lex.vague_quantity),
    ]
    for rule, pattern in simple:
        for m in pattern.finditer(body):
            add(rule, m.group(0).strip(" ,"))
    if not _DIGIT.search(body):
        for m in lex.vague.finditer(body):
            if not lex.graded.search(body, 0, m.start()):  # "más rápido": a comparative or superlative
                add("smell-vague", m.group(0))
    for sentence in _SENTENCE.split(body):
        _sentence_smells(sentence.strip(), lex, add)
    _compound(body, lex, add)
    fixes = lex.fixes
    return [Smell(rule, tuple(words), fixes.get(rule, "")) for rule, words in sorted(found.items())]


def _sentence_smells(sentence: str, lex: Lexicon, add: Callable[[str, str], None]) -> None:
    if not lex.reference.search(sentence):
        for m in lex.comparative.finditer(sentence):
            if not lex.superlative_before.search(sentence, 0, m.start()):
                add("smell-comparative", m.group(0))
    if not (_DIGIT.search(sentence) or lex.bound.search(sentence)):
        for m in lex.universal.finditer(sentence):
            add("smell-universal", m.group(0))
    for m in lex.pronoun.finditer(sentence):
        add("smell-pronoun", m.group(0).strip(", ").split()[0])
    if not lex.agent.search(sentence):
        for m in lex.passive.finditer(sentence):
            add(PASSIVE, " ".join(m.group(0).split()[-2:]))


def _compound(body: str, lex: Lexicon, add: Callable[[str, str], None]) -> None:
    if m := re.search(r"\b(?:und|y)/(?:oder|o)\b", body, re.IGNORECASE):
        add("smell-compound", m.group(0))
    obligations = lex.obligation.findall(body)
    if len(obligations) >= 2:
        add("smell-compound", f"{len(obligations)} x {obligations[0].lower()}")
    if obligations and (m := lex.joined_action.search(body)):
        add("smell-compound", " ".join(m.group(0).split()[:3]))


def drafting_problems_in(text: str, path: str, language: str, rules: frozenset[str]) -> list[str]:
    """Re-ask reasons for a drafted requirement in ``language``: only ``rules`` count."""
    return [f"{path}: {smell.message}" for smell in detect_in(text, language) if smell.rule in rules]
