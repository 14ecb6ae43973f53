"""Meaningful word stems of a text in another language than English, for grounding and coverage.

German, Spanish, French and Portuguese words are stemmed by the Snowball stemmers (PyStemmer, the ones
bm25s documents): *Einladungen*, *Einladung*, *einladen* share ``einlad``. Chinese and Japanese have no
spaces between words: a run of their characters is cut into overlapping character pairs (*团队邀请* ->
团队, 队邀, 邀请), the usual unit of CJK retrieval without a segmenter; pairs holding a particle (的, の)
are dropped. Latin words inside CJK text (product names, ``PostgreSQL``) are kept, lower-cased. English
keeps its own light stemmer (``agent.specdoc.grounding``), so English results do not change.

Each language's vocabulary lives here: its stop words, the generic words any spec uses, the filler
words that say nothing about a feature (the drafting ``filler`` check, through :func:`specific_stems`)
and how it declines a field the feature does not need (``DECLINED``).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from agent.specdoc.language import LANGUAGES

_WORD = re.compile(r"[^\W\d_](?:[\w+#]|[.-](?=\w))*[\w+#]|[^\W\d_]")
#: the characters of Chinese and Japanese (kana, CJK ideographs), written without spaces between words
CJK_CHARACTERS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{CJK_CHARACTERS}]+")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9+#.]*[A-Za-z0-9+#]|[A-Za-z]")

_STOP: dict[str, frozenset[str]] = {
    code: frozenset(words.split())
    for code, words in {
        "de": """aber alle allem allen aller alles als also am an auch auf aus bei beim bis bzw da damit dann
            das dass dem den denen der des dessen die dies diese diesem diesen dieser dieses doch dort du
            durch ein eine einem einen einer eines einige er es etwa etwas für gegen hat hatte haben ihr
            ihre ihrem
            ihren ihrer ihres im in ins ist jede jedem jeden jeder jedes kann kein keine können muss müssen
            nach nicht noch nur ob oder ohne pro per sein seine sich sie sind so soll sollen sowie über um und
            uns unter vom von vor wann was weil wenn werden wie wird wir wo zu zum zur zwischen darf dürfen
            mehr sehr neue neuen neuer neues einem beim zwar sodass ggf bzw z b mit ab seit statt während
            wegen innerhalb außerhalb höchstens mindestens jeweils bereits dabei dafür dazu davon hier""",
        "es": """a al algo algunas algunos ante antes como con contra cual cuando de del desde donde durante
            e el ella ellas ellos en entre era es esa ese eso esta este esto estos estas está están fue ha han
            hasta hay la las le les lo los más me mi mientras muy nada ni no nos o os otra otro para pero poco
            por porque que quien se sea según ser si sin sobre son su sus también tanto te tiene tienen todo
            todos tras tu un una uno unos unas y ya debe deben deberá puede pueden cada nuevo nueva nuevos
            cómo qué cuál cuáles dónde cuándo aquí allí así""",
        "fr": """à au aux avec ce ces cette dans de des du elle en est et être il ils la le les leur leurs
            mais ne ni nous on ou par pas pour qu que qui sa se ses son sur un une vous y doit doivent peut
            chaque tout tous toute toutes plus sans sous entre""",
        "pt": """a ao aos as com como da das de do dos e é ela ele em entre era essa esse esta este foi há
            isso mais mas na nas não no nos o os ou para pela pelo por que se sem ser seu sua são também um
            uma deve devem pode podem cada todo todos""",
    }.items()
}
#: words any feature's spec may use, per language (as the English list in agent.specdoc.grounding)
_GENERIC: dict[str, str] = {
    "de": """system systeme dienst dienste benutzer nutzer anwender daten anwendung funktion funktionen
        anforderung anforderungen schnittstelle komponente komponenten modul lösung plattform verwaltung
        unterstützung unterstützen bereitstellen ermöglichen sicherstellen verarbeiten verarbeitung
        prozess anfrage anfragen antwort antworten fehler test tests leistung sicherheit qualität zeit team
        teams information informationen seite seiten ansicht option optionen einstellung einstellungen
        änderung änderungen aktualisierung erstellen hinzufügen entfernen kunde kunden person nutzen wert
        ziel plan phase technisch technische architektur spezifikation""",
    "es": """sistema sistemas servicio servicios usuario usuarios datos aplicación función funciones
        requisito requisitos interfaz componente componentes módulo solución plataforma gestión soporte
        permitir proporcionar asegurar procesar proceso solicitud solicitudes respuesta respuestas error
        errores prueba pruebas rendimiento seguridad calidad tiempo equipo equipos información página
        páginas vista opción opciones configuración cambio cambios actualización crear añadir eliminar
        cliente clientes persona valor objetivo plan fase técnico técnica arquitectura especificación""",
    "fr": """système service services utilisateur utilisateurs données application fonction fonctions
        exigence exigences interface composant module solution plateforme gestion permettre fournir
        assurer traiter demande réponse erreur test tests performance sécurité qualité temps équipe
        information page""",
    "pt": """sistema serviço serviços usuário usuários dados aplicação função funções requisito
        requisitos interface componente módulo solução plataforma gestão permitir fornecer garantir
        processar solicitação resposta erro teste testes desempenho segurança qualidade tempo equipe
        informação""",
    "zh": "系统 用户 数据 功能 服务 应用 需求 支持 提供 管理 实现 接口 模块 平台 性能 安全 测试 时间",
    "ja": "システム ユーザー データ 機能 サービス アプリ 要件 サポート 提供 管理 実装 モジュール 性能 テスト",
}
#: words that fill a sentence without saying anything about a feature, beyond the generic ones above (as
#: the English list in agent.specdoc.grounding): a sentence of only these and generic words is filler
_FILLER: dict[str, str] = {
    "de": """gestalten gestaltet gestaltung entwerfen entworfen entwickeln entwickelt entwicklung umsetzen
        umgesetzt umsetzung realisieren realisiert erfüllen erfüllt erfüllung fall fälle fällen art arten
        weise verschieden verschiedene unterschiedlich unterschiedliche vielfältig vielzahl wichtig
        wichtige bedeutung bedeutend verbessern verbessert verbesserung erfahrung insgesamt allgemein
        gesamt gesamte gesamten gut gute besser bestmöglich möglich möglichkeit möglichkeiten effizient
        effizienz effektiv entsprechend entsprechende angemessen angemessene geeignet geeignete notwendig
        notwendige nötig erforderlich erforderliche relevant relevante bereich bereiche aspekt aspekte
        hinblick rahmen bezug sinnvoll optimal optimiert reibungslos zuverlässig nahtlos hoch hohe hohen
        gewährleisten gewährleistet berücksichtigen berücksichtigt erreichen erreicht vorteil vorteile
        mehrwert zweck zwecke umfassend umfassende modern moderne robust robuste stabil stabile
        sorgen sorgt bieten bietet erheblich deutlich stets immer jederzeit ganz grundsätzlich schnell
        schnelle behandeln behandelt handhaben maßnahme maßnahmen
        aufbauen aufgebaut ausführen ausgeführt durchführen durchgeführt einrichten eingerichtet treffen
        getroffen kommen geben gibt erfolgen erfolgt beachten beachtet einsetzen eingesetzt verwenden
        verwendet anpassen angepasst abdecken abgedeckt gerecht erhalten erhält liefern liefert
        sicherzustellen schritt schritte problem probleme entscheidung entscheidungen wartbarkeit
        bedürfnis bedürfnisse ansatz vorgehen herausforderung herausforderungen situation situationen
        ergebnis ergebnisse faktor faktoren punkt punkte thema themen kontext bestimmt bestimmte flexibel
        flexible einfach einfache klar klare passend passende hochwertig wartbar leistungsfähig sicher
        auslegen ausgelegt betrieb halten performant anzahl groß große großen problemlos verzögerung
        verzögerungen vorkehrung vorkehrungen eventuell eventuelle schwierigkeit schwierigkeiten
        rechtzeitig erkennen erkannt bewährt bewährte bewährtes erzielen code""",
    "es": """diseñar diseña diseñado diseño desarrollar desarrolla desarrollado desarrollo implementar
        implementa implementado implementación cumplir cumple cumplimiento caso casos manera maneras forma
        formas adecuado adecuada adecuadamente correcto correcta correctamente necesario necesaria
        necesarios importante importantes importancia mejorar mejora mejoras experiencia general variedad
        diverso diversos diversas diferente diferentes distinto distintos aspecto aspectos ámbito posible
        posibles eficiente eficientemente eficaz óptimo óptima óptimamente garantizar garantiza asegura
        lograr logra ofrecer ofrece robusto robusta fiable confiable moderno moderna buena bueno buen
        mejor ventaja ventajas beneficio beneficios propósito fin global completo completa integral nivel
        alto alta funcionamiento funcionar funcione funciona tener cuenta medida siempre todo toda todas
        relevante relevantes conveniente apropiado apropiada estable eficacia calidad rápido rápida
        rápidamente tratar trata tratan manejar maneja conforme medidas
        configurar configura configurado ejecutar ejecuta ejecuten realizar realiza realizado llevar cabo
        surgir surge tomar toma tomaron tomado adaptar adapta cubrir cubre satisfacer satisface deberán
        paso pasos problema problemas decisión decisiones mantenimiento necesidad necesidades enfoque
        desafío desafíos situación situaciones resultado resultados factor factores punto puntos tema
        temas contexto determinado determinados determinada cierto ciertos flexible flexibles sencillo
        simple claro clara escalable mantenible seguro segura pensar pensada pensado mantener momento
        cantidad gran grande inconveniente inconvenientes retraso retrasos precaución precauciones oportuno
        oportuna oportunas cualquier dificultad dificultades detectar detecte utilizar utiliza probado
        conseguir código""",
    "zh": """设计 所有 一切 情况 满足 要求 旨在 良好 体验 确保 保证 各种 各类 多种 不同 稳定 高效 运行 相关
        方面 进行 能够 实现 优化 提升 提高 改善 合理 有效 灵活 可靠 全面 整体 重要 一定 相应 适当 必要
        需要 快速 顺利 正常 方式 方法 目的 目标 效果 完善 友好 充分 各个 所需 处理
        具有 可靠性 稳定性 可用性 扩展性 应该 应当 必须 可以
        合适 采用 产品 质量 保持 高性能 高可用 业务 发展 团队 解决方案 方案 现代化 现代 适应 很好
        一种 流程 步骤 问题 决策 维护 可维护性 灵活性 采取 措施 考虑 注意 确定 特定 某些 一些
        打造 一套 完整 机制 整个 更加 顺畅 带来 更好 使用 感受 尽量 发现 解决 潜在 做到
        又快又稳 影响 大家 不能 我们 要""",
}
#: how an answer declines a field the feature does not need ("Not needed: the API has no browser client"),
#: per language; the first form is the one the filler re-ask asks for
DECLINED: dict[str, tuple[str, ...]] = {
    "en": ("Not needed", "Not required", "Not applicable", "N/A"),
    "de": ("Nicht nötig", "Nicht notwendig", "Nicht erforderlich", "Nicht zutreffend", "Entfällt"),
    "es": ("No es necesario", "No se necesita", "No es aplicable", "No aplica", "No procede"),
    "zh": ("不需要", "不适用", "无需"),
}
#: characters that join words in Chinese and Japanese: a pair holding one is no term
_CJK_PARTICLES = frozenset(
    "的了是在和与及或将把被对从为由并等也都就而一个这那其之以の に は を が で と も へ や か な".replace(
        " ", ""
    )
)


@functools.lru_cache(maxsize=8)
def _stemmer(code: str) -> Any:
    import Stemmer  # PyStemmer: loaded when a spec in one of these languages is judged

    return Stemmer.Stemmer(LANGUAGES[code].stemmer)


def _cjk_pairs(run: str) -> list[str]:
    pairs = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return [pair for pair in pairs if not (set(pair) & _CJK_PARTICLES)]


@functools.lru_cache(maxsize=65_536)
def _stem_word(word: str, code: str) -> str:
    return str(_stemmer(code).stemWord(word))


def stems_in(text: str, code: str) -> list[str]:
    """The content stems of ``text`` written in ``code`` (any language but English)."""
    if LANGUAGES[code].stemmer is None:
        out: list[str] = []
        for run in _CJK_RUN.findall(text):
            out += _cjk_pairs(run)
        out += [w.lower() for w in _LATIN.findall(_CJK_RUN.sub(" ", text)) if len(w) > 1]
        return out
    stop = _STOP.get(code, frozenset())
    stems = []
    for word in _WORD.findall(text):
        low = word.lower().strip(".")
        if len(low) < 2 or low in stop:
            continue
        # compounds and pairs are read by their parts: Team-Einladungen, Mitglied/Administrator
        stems += [_stem_word(part, code) for part in re.split(r"[/-]", low) if len(part) > 1]
    return stems


def words_in(text: str, code: str) -> list[str]:
    """The words of ``text`` (CJK: its character runs), for showing which ones were not understood."""
    if LANGUAGES[code].stemmer is None:
        return _CJK_RUN.findall(text) + _LATIN.findall(text)
    return _WORD.findall(text)


@functools.lru_cache(maxsize=16)
def generic_stems(code: str) -> frozenset[str]:
    """The stems of the words any spec in ``code`` uses (they neither ground nor make off-topic)."""
    words = _GENERIC.get(code, "").split()
    return frozenset(stem for word in words for stem in stems_in(word, code))


@functools.lru_cache(maxsize=16)
def filler_stems(code: str) -> frozenset[str]:
    """The stems of the words that fill a sentence in ``code`` (see ``_FILLER``)."""
    words = _FILLER.get(code, "").split()
    return frozenset(stem for word in words for stem in stems_in(word, code))


@functools.lru_cache(maxsize=16)
def _vague_words(code: str) -> re.Pattern[str]:
    """The generic and filler words of a language without spaces, longest first (cut out of a text)."""
    words = sorted({*_GENERIC.get(code, "").split(), *_FILLER.get(code, "").split()}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words)) or "(?!)")


def specific_stems(text: str, code: str) -> list[str]:
    """The content stems of ``text`` (in ``code``, not English) that say something about a feature: neither
    generic nor filler. Chinese and Japanese: those words are cut out before the text is paired, so a pair
    across one of them and its neighbour (情况下 -> 况下) does not count, nor does a lone character left."""
    if LANGUAGES[code].stemmer is None:
        return [pair for pair in stems_in(_vague_words(code).sub(" ", text), code) if len(pair) > 1]
    vague = generic_stems(code) | filler_stems(code)
    return [stem for stem in stems_in(text, code) if stem not in vague]
