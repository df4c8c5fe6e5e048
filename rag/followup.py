"""Follow-up questions: "and AIDC?" or "what about its EBITDA?" completed with the previous
question's subject, measure or period, deterministically, before retrieval.

The previous question is read by the grammar of a question: its head (question words and the
first auxiliary: "How much did", "What was"), its main verb ("grow", "turn", "spend", "came"),
and the words around them, each tagged as part of the measure (financial metric words: revenue,
adjusted EBITDA, free cash flow), the period ("in the December quarter", "last year") or the
subject (the other content words: "cloud", "Taobao and Tmall Group", "Alibaba's"). A title or
attribute before "of"/"for" ("the CFO of Alibaba") is not the subject; a complement after the verb
("turn profitable") is not either. Only the part the follow-up names is swapped, in place, so the
rest of the question (verb, prepositions, possessive) stays: a new subject keeps the measure and
verb, a new measure keeps the subject (and "was"/"were" follows the new measure's number), a new
period replaces or extends the old one. A pronoun ("how fast did it grow?") is replaced by the
whole noun phrase the previous question asked about ("cloud revenue"), or by its subject alone when
the follow-up names its own measure ("how many customers does it have?") or is possessive ("its").

A qualifier of the measure ("on a GAAP basis", "diluted?", "and adjusted?") is not a subject or a
measure: it replaces the previous question's qualifier of its kind (accounting basis, share count,
level: "non-GAAP net income" -> "GAAP net income") or, if there is none, goes before the measure
noun ("adjusted net income"). A phrase said of the figure rather than the measure ("excluding
share-based compensation", "in constant currency", "on a like-for-like basis") goes in as written,
before the period. A demonstrative noun phrase ("that analyst", "those customers") after a
who/which question stands for what that question asked about: "Who asked about buybacks?" + "which
firm was that analyst from?" -> "Which firm was the analyst who asked about buybacks from?".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.text import MEASURES, STOPWORDS

_LEAD = re.compile(r"^\s*(?:and|also|ok(?:ay)?|so|then)?[\s,]*(?:what|how)\s+about\s+|^\s*(?:and|also)\s+(?:for\s+|in\s+)?|"
                   r"^\s*(?:same|ditto)\s+for\s+|^\s*what\s+of\s+", re.I)
_PRONOUN = re.compile(r"\b(its|their|it|they|them|that|those|this|these|he|she|his|her)\b", re.I)
_WH = re.compile(r"^\s*(who|what|when|where|which|why|how|is|are|was|were|did|does|do|can|could|will|would|has|have)\b", re.I)
# measure nouns and their modifiers (no verbs: "grow" is the question's verb, "growth" its measure)
MEASURE = re.compile(
    rf"\b({MEASURES}|profitability|cash|flows?|expenditures?|spending|growth|adjusted|non-gaap|gaap|net|total|"
    r"operating|free|gross|diluted|losses?|loss|share|count|rate|margin|year-over-year|yoy|outlook|guidance|"
    r"percentage|proportion)\b", re.I)
_PERIOD = re.compile(r"quarters?|years?|half|months?|fiscal|calendar|ago|ytd|year-ago|(?:19|20)\d\d|fy\d{0,4}|q[1-4]|h[12]",
                     re.I)
_MONTH = re.compile(r"january|february|march|april|may|june|july|august|september|october|november|december", re.I)
_PERIOD_MOD = frozenset("last this next previous prior same first second third fourth latest current recent the a".split())
_PERIOD_PREP = frozenset("in during for over since through".split())
_WH_WORDS = frozenset("what which who whom whose when where why how".split())
_HOW_ADV = frozenset("much many fast big large long far often quickly".split())
_AUX = frozenset("did does do was were is are has have had will would can could should".split())
_DET = frozenset("the a an this that these those".split())
_PREP = frozenset("of for from in on at during over to by with about into across versus vs per under within since "
                  "through between among".split())
_CONJ = frozenset("and & or".split())
_PERSONAL = frozenset("it they them he she him its their his her".split())
_POSSESSIVE_PRONOUN = frozenset("its their his".split())
_VERB_BASES = (
    "grow increase decrease decline fall rise drop climb jump slow accelerate change turn become spend earn make report "
    "generate contribute narrow widen improve expand shrink reach achieve expect plan say lose return pay invest have do "
    "get take serve hire launch join leave start begin end close come go perform compare beat miss guide record post "
    "deliver add cut raise reduce buy sell repurchase acquire announce mention drive affect impact benefit exceed outpace "
    "account represent break swing recover rebound weaken strengthen happen cause lead help hit remain stay hold own use "
    "see mean").split()
_IRREGULAR = ("grew grown rose risen fell fallen paid spent bought sold made held led drove driven won took taken gave "
              "given began begun became saw seen brought built kept left met ran went gone wrote written came lost hit "
              "cut put said did done had got").split()
_CONTENT = ("SUBJECT", "ATTR", "MEASURE", "VERB", "COMP", "NUM")
# qualifiers of a measure, by kind, in the order they stand before it ("non-GAAP diluted net income")
_QUAL_KINDS = (re.compile(r"non-gaap|gaap|non-ifrs|ifrs|adjusted|reported|underlying", re.I),
               re.compile(r"diluted|basic", re.I),
               re.compile(r"gross|operating|net|free|pre-tax", re.I))
_BASIS = re.compile(r"\b(?:on|in)\s+(?:an?\s+)?(?P<q>[\w-]+(?:\s+[\w-]+)?)\s+(?:basis|terms)\b", re.I)
# said of the figure, not the measure: goes in as a phrase
_ASIDE = re.compile(r"\b(?:in|at)\s+constant[\s-]currenc(?:y|ies)\b|"
                    r"\b(?:excluding|including|exclusive\s+of|net\s+of)\s+[^\s,?][^,?]*", re.I)
_DEMONSTRATIVE = frozenset("this that these those".split())
_PEOPLE = frozenset(("analyst executive officer ceo cfo cto coo chairman president founder director manager person "
                     "people speaker investor shareholder customer client user member employee merchant seller buyer "
                     "developer").split())
_PAST = dict(pair.split(":") for pair in (
    "grow:grew rise:rose fall:fell pay:paid spend:spent buy:bought sell:sold make:made hold:held lead:led drive:drove "
    "win:won take:took give:gave begin:began become:became see:saw bring:brought build:built keep:kept leave:left "
    "meet:met run:ran go:went write:wrote come:came lose:lost hit:hit cut:cut put:put say:said do:did have:had "
    "get:got").split())


def _verb_forms() -> frozenset[str]:
    """Every inflection of the verb lexicon: base, -s, -ed, -ing (a final e dropped, or the last
    consonant doubled) and the irregular past forms. Over-generation is harmless."""
    out = set(_IRREGULAR)
    for b in _VERB_BASES:
        stem = b[:-1] if b.endswith("e") else b
        out |= {b, b + "s", b + "es", stem + "ed", stem + "ing", b + b[-1] + "ed", b + b[-1] + "ing"}
    return frozenset(out)


_VERBS = _verb_forms()


@dataclass
class _Tok:
    """One word of a question: its character offsets, its lower-cased form without a possessive
    's, whether it had one, and the part it plays (set by `_tag`)."""
    start: int
    end: int
    text: str
    low: str
    poss: bool
    tag: str = ""


def _tokens(text: str) -> list[_Tok]:
    """The words of `text` ("Alibaba's", "year-over-year", "88VIP" and "&" are one word each)."""
    out = []
    for m in re.finditer(r"[A-Za-z0-9][\w.&'’-]*\w|[A-Za-z0-9&]", text):
        w = m.group(0)
        poss = bool(re.search(r"['’]s$", w, re.I)) and len(w) > 2
        out.append(_Tok(m.start(), m.end(), w, (w[:-2] if poss else w).lower(), poss))
    return out


def _word_tag(t: _Tok, before: _Tok | None, seen_aux: bool, capital: bool) -> str:
    """The part one word plays, from its form and the word before it. A known verb after a
    determiner or a possessive is a noun ("the take rate", "the increase"); a capitalised word
    inside the question is a name, never a verb."""
    w = t.low
    if w in _WH_WORDS or (w in _HOW_ADV and before is not None and before.low == "how"):
        return "WH"
    if w in _AUX and not seen_aux and not t.poss:
        return "AUX"
    if w in _PERSONAL:
        return "PRON"
    for tag, words in (("DET", _DET), ("PREP", _PREP), ("CONJ", _CONJ)):
        if w in words:
            return tag
    if _PERIOD.fullmatch(w) or (t.text[0].isupper() and _MONTH.fullmatch(w)):
        return "PERIOD"
    if MEASURE.fullmatch(w):
        return "MEASURE"
    if re.fullmatch(r"[\d.,%]+", w):
        return "NUM"
    if not capital and (w in _VERBS or (len(w) > 4 and w.endswith("ed"))):
        return "MEASURE" if before is not None and (before.tag == "DET" or before.poss) else "VERB"
    return "FUNC" if w in STOPWORDS and w != "company" else "SUBJECT"


def _mark_period(toks: list[_Tok]) -> tuple[int, int] | None:
    """Find the first period phrase ("in the December quarter", "last year", "a year ago"), tag
    all its words PERIOD and return its first and last index."""
    i = next((k for k, t in enumerate(toks) if t.tag == "PERIOD"), None)
    if i is None:
        return None
    j = i
    while j + 1 < len(toks) and (toks[j + 1].tag == "PERIOD" or toks[j + 1].low == "ago"):
        j += 1
    while i > 0 and toks[i - 1].low in _PERIOD_MOD:
        i -= 1
    if i > 0 and toks[i - 1].low in _PERIOD_PREP:
        i -= 1
    for t in toks[i:j + 1]:
        t.tag = "PERIOD"
    return i, j


def _refine(toks: list[_Tok]) -> None:
    """Tags that need the words around: a participle before a measure is part of it ("paying
    members"); the noun of "which"/"what" belongs to the question ("which segment"); a lower-case word right after the main verb, before any preposition, is its
    complement ("turn profitable"); a noun after "the"/a question word and before "of"/"for" is an
    attribute of what follows, not the subject ("the CFO of Alibaba")."""
    for k, t in enumerate(toks[:-1]):
        if t.low.endswith("ing") and t.tag in ("VERB", "SUBJECT") and toks[k + 1].tag == "MEASURE":
            t.tag = "MEASURE"
        if t.low in ("what", "which") and toks[k + 1].tag == "SUBJECT":
            toks[k + 1].tag = "ATTR"  # the question word's noun: "which segment", "what product"
    verb = next((k for k, t in enumerate(toks) if t.tag == "VERB"), None)
    if verb is not None:
        for t in toks[verb + 1:]:
            if t.tag in ("PREP", "PERIOD"):
                break
            if t.tag == "SUBJECT" and not t.text[0].isupper():
                t.tag = "COMP"
    for k, t in enumerate(toks):
        if t.tag != "PREP" or t.low not in ("of", "for") or not any(u.tag == "SUBJECT" for u in toks[k + 1:k + 2]):
            continue
        j = k - 1
        while j >= 0 and toks[j].tag in ("SUBJECT", "MEASURE"):
            j -= 1
        if j >= 0 and toks[j].tag in ("DET", "WH"):
            for u in toks[j + 1:k]:
                u.tag = "ATTR" if u.tag == "SUBJECT" else u.tag


def _tag(text: str, fragment: bool = False) -> tuple[list[_Tok], tuple[int, int] | None]:
    """The words of `text`, tagged, and the index range of its period phrase. In a `fragment`
    ("Local Services", "its margins") the first word's capital is meaningful too."""
    toks = _tokens(text)
    seen_aux = False
    for k, t in enumerate(toks):
        before = toks[k - 1] if k else None
        t.tag = _word_tag(t, before, seen_aux, t.text[0].isupper() and (fragment or k > 0))
        seen_aux = seen_aux or t.tag == "AUX"
    period = _mark_period(toks)
    _refine(toks)
    return toks, period


def _runs(toks: list[_Tok], tags: tuple[str, ...]) -> list[tuple[int, int]]:
    """Index ranges of the maximal runs of words tagged one of `tags`; "and"/"&" between two of
    them joins the run ("Taobao and Tmall Group")."""
    runs: list[tuple[int, int]] = []
    for k, t in enumerate(toks):
        if t.tag not in tags:
            continue
        if runs and (runs[-1][1] == k - 1 or (runs[-1][1] == k - 2 and toks[k - 1].tag == "CONJ")):
            runs[-1] = (runs[-1][0], k)
        else:
            runs.append((k, k))
    return runs


@dataclass
class _Parse:
    """The previous question, read: its words and where its subject, measure and period are."""
    text: str
    toks: list[_Tok]
    subject: tuple[int, int] | None
    measure: tuple[int, int] | None
    period: tuple[int, int] | None

    def chars(self, rng: tuple[int, int]) -> tuple[int, int]:
        """Character offsets of an index range."""
        return self.toks[rng[0]].start, self.toks[rng[1]].end

    def span(self, rng: tuple[int, int] | None) -> str:
        """The text of an index range ('' for none)."""
        if not rng:
            return ""
        a, b = self.chars(rng)
        return self.text[a:b]

    def entity(self) -> str:
        """The subject without its possessive ("Alibaba's" -> "Alibaba")."""
        s = self.span(self.subject)
        return s[:-2] if self.subject and self.toks[self.subject[1]].poss else s

    def topic(self) -> str:
        """The noun phrase the question asks about: after the auxiliary (or the question words)
        up to the main verb or the period ("cloud revenue", "the CFO of Alibaba")."""
        toks = self.toks
        aux = next((k for k, t in enumerate(toks) if t.tag == "AUX"), None)
        a = aux + 1 if aux is not None else next((k for k, t in enumerate(toks) if t.tag != "WH"), len(toks))
        b = a
        while b < len(toks) and toks[b].tag not in ("VERB", "PERIOD", "COMP"):
            b += 1
        return self.span((a, b - 1)) if b > a else ""


def _parse(text: str, prep: str = "") -> _Parse:
    """Read the previous question: its subject is the first run of subject words (the first after
    `prep` when the follow-up names one: "and for AIDC?" swaps the object of "for"), its measure
    the last run of measure words."""
    toks, period = _tag(text)
    subjects = _runs(toks, ("SUBJECT",))
    after_prep = [r for r in subjects if r[0] and toks[r[0] - 1].low == prep]
    subject = (after_prep or subjects or [None])[0]
    measures = _runs(toks, ("MEASURE",))
    return _Parse(text, toks, subject, measures[-1] if measures else None, period)


def is_elliptical(question: str) -> bool:
    """Whether `question` leans on the previous one: a lead ("and", "what about") or a qualifier
    phrase first ("on a GAAP basis", "excluding Lazada"), very few content words, or a pronoun
    among few words."""
    q = question.strip()
    aside = _BASIS.match(q) or _ASIDE.match(q)  # "excluding Lazada in 2023?", "on a GAAP basis for AIDC?"
    if _LEAD.match(q) or (aside and not _WH.match(q[aside.end():].lstrip(" ,"))):
        return True
    content = _content_spans(q)
    return (len(content) <= 3 and not _WH.match(q)) or bool(_PRONOUN.search(q) and len(content) <= 4)


def _content_spans(text: str) -> list[tuple[int, int, str]]:
    """The content words of `text` with their offsets (no stopwords, no question words)."""
    return [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"[A-Za-z0-9][\w.&'-]*", text)
            if m.group(0).lower() not in STOPWORDS and not _WH.match(m.group(0))]


def _is_plural(phrase: str) -> bool:
    """Whether a measure phrase is plural, by its last word ("margins", "sales"; not "EBITDA")."""
    toks = _tokens(phrase)
    last = toks[-1].text if toks else ""
    return last.islower() and last.endswith("s") and not last.endswith(("ss", "us", "is"))


def _agreement(prev: _Parse, new_measure: str) -> list[tuple[int, int, str]]:
    """Edits that make the question agree with a new measure in number: "What was ... revenue" ->
    "What were ... margins" when the measure heads the copula's noun phrase; "how many" ->
    "how much" before an uncountable measure."""
    toks, (m0, _) = prev.toks, prev.measure
    plural, edits = _is_plural(new_measure), []
    if m0 > 0 and toks[m0 - 1].low in ("many", "much"):
        t = toks[m0 - 1]
        edits.append((t.start, t.end, "many" if plural else "much"))
    aux = next((k for k, t in enumerate(toks) if t.tag == "AUX"), None)
    if aux is None or aux > m0 or any(t.low in ("of", "for") for t in toks[aux + 1:m0]):
        return edits
    swap = {"was": "were", "is": "are"} if plural else {"were": "was", "are": "is"}
    t = toks[aux]
    if t.low in swap:
        new = swap[t.low]
        edits.append((t.start, t.end, new.capitalize() if t.text[0].isupper() else new))
    return edits


def _period_phrase(text: str, toks: list[_Tok], rng: tuple[int, int]) -> str:
    """A follow-up's period as it goes into a question: "2023" -> "in 2023", "the September
    quarter" -> "in the September quarter"; "last year", "a year ago", "in Q3" as they are."""
    phrase = text[toks[rng[0]].start:toks[rng[1]].end]
    first = toks[rng[0]].low
    if first in _PERIOD_PREP or first in _PERIOD_MOD - {"the"} or toks[rng[1]].low == "ago":
        return phrase
    return "in " + phrase


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    """`text` with each (start, end, new) edit made; insertions at one place keep their order."""
    out, pos = [], 0
    for a, b, new in sorted(edits, key=lambda e: e[0]):
        out.append(text[pos:a] + new)
        pos = max(pos, b)
    return "".join(out) + text[pos:]


def _swap_subject(prev: _Parse, new: str, anchor: int) -> tuple[int, int, str]:
    """The edit putting a new subject in the old one's place (keeping its possessive), or, when
    the previous question had none, adding "for <new>" at `anchor`."""
    if not prev.subject:
        return anchor, anchor, f" for {new}"
    a, b = prev.chars(prev.subject)
    return a, b, new + ("'s" if prev.toks[prev.subject[1]].poss else "")


def _qual_kind(word: str) -> int | None:
    """The kind of a measure qualifier (0 accounting basis, 1 share count, 2 level), None if not one."""
    return next((i for i, kind in enumerate(_QUAL_KINDS) if kind.fullmatch(word)), None)


def _qualifiers(text: str) -> tuple[str, list[str], list[str]]:
    """`text` without its qualifiers, the measure qualifiers ("on a GAAP basis" -> "GAAP"; a bare
    "diluted" or "adjusted" when no measure noun follows) and the phrases said of the figure
    ("excluding share-based compensation", "in constant currency", "on a like-for-like basis")."""
    quals: list[str] = []
    asides: list[str] = []

    def basis(m: re.Match) -> str:
        """Sort one "on a ... basis" phrase and take it out."""
        q = m.group("q")
        if _qual_kind(q.split()[-1]) is None:
            asides.append(m.group(0))  # "on a like-for-like basis"
        else:
            quals.append(q)
        return " "

    text = _BASIS.sub(basis, text)
    m = _ASIDE.search(text)
    if m:
        phrase = m.group(0).rstrip(" ?.!")
        toks, period = _tag(phrase, fragment=True)
        phrase = phrase[:toks[period[0]].start].rstrip() if period and period[0] > 1 else phrase
        asides.append(phrase)
        text = text[:m.start()] + " " + text[m.start() + len(phrase):]
    toks, _ = _tag(text, fragment=True)
    if not any(t.tag == "MEASURE" and _qual_kind(t.low) is None for t in toks):
        bare = [t for k, t in enumerate(toks) if _qual_kind(t.low) is not None  # not in a name: "Basic Materials"
                and not (k + 1 < len(toks) and toks[k + 1].text[0].isupper())]
        quals += [t.low if t.text[1:].islower() else t.text for t in bare]  # "Diluted?" -> "diluted"
        for t in reversed(bare):
            text = text[:t.start] + text[t.end:]
    return text, quals, asides


def _qualifier_edits(prev: _Parse, quals: list[str], asides: list[str]) -> list[tuple[int, int, str]]:
    """Edits putting qualifiers into the previous question: one replaces the qualifier of its kind
    in or before the measure, else goes before the measure noun after those of earlier kinds
    (without a measure: "on a <q> basis"); an aside goes before the period, or at the end."""
    toks, edits, asides = prev.toks, [], list(asides)
    kinds = [_qual_kind(t.low) for t in toks]
    for q in quals:
        kind, article = _qual_kind(q.split()[-1]), "an" if q[0] in "aeiouAEIOU" else "a"
        same = next((k for k, t in enumerate(toks) if kinds[k] == kind and "MEASURE" in (
            t.tag, toks[min(k + 1, len(toks) - 1)].tag)), None)
        if same is not None:
            if same and toks[same - 1].low in ("a", "an"):  # "on a non-GAAP basis" -> "on an adjusted basis"
                edits.append((toks[same - 1].start, toks[same - 1].end, article))
            edits.append((toks[same].start, toks[same].end, q))
        elif not prev.measure:
            asides.append(f"on {article} {q} basis")
        else:
            k = prev.measure[0]
            while k < prev.measure[1] and kinds[k] is not None and kinds[k] < kind:
                k += 1
            edits.append((toks[k].start, toks[k].start, q + " "))
    at = toks[prev.period[0]].start if prev.period and prev.period[0] else None
    for a in asides:
        edits.append((at, at, a + " ") if at is not None else (toks[-1].end, toks[-1].end, " " + a))
    return edits


def _complete_fragment(prev: _Parse, rest: str, quals: Sequence[str] = (), asides: Sequence[str] = ()) -> str:
    """The previous question with the parts a fragment follow-up names ("AIDC", "its margins",
    "in 2023", "AIDC's EBITA") swapped in, and its qualifiers (see `_qualifiers`) put in."""
    toks, period = _tag(rest, fragment=True)
    subj = [t for t in toks if t.tag in ("SUBJECT", "ATTR", "VERB", "COMP")]
    meas = [t for t in toks if t.tag == "MEASURE"]
    if not (subj or meas or period or quals or asides):
        return prev.text
    new_subject = rest[subj[0].start:subj[-1].end] if subj else ""
    new_subject = new_subject[:-2] if subj and subj[-1].poss else new_subject
    new_measure = " ".join([*quals, rest[meas[0].start:meas[-1].end]]) if meas else ""
    ptoks = prev.toks
    anchor = ptoks[prev.period[0] - 1].end if prev.period and prev.period[0] else ptoks[-1].end
    if meas and not prev.measure:
        return _new_measure_question(prev, new_subject or prev.entity(), new_measure)
    edits = _qualifier_edits(prev, [] if meas else list(quals), list(asides))
    if subj and meas and prev.subject and prev.measure and prev.subject[1] + 1 == prev.measure[0]:
        # "cloud revenue" + "AIDC's adjusted EBITA": both words change, as the user wrote them
        edits.append((ptoks[prev.subject[0]].start, ptoks[prev.measure[1]].end, rest[subj[0].start:meas[-1].end]))
        edits += _agreement(prev, new_measure)
    else:
        if subj:
            edits.append(_swap_subject(prev, new_subject, anchor))
        if meas:
            edits.append((*prev.chars(prev.measure), new_measure))
            edits += _agreement(prev, new_measure)
    if period:
        phrase = _period_phrase(rest, toks, period)
        edits.append((*prev.chars(prev.period), phrase) if prev.period else (ptoks[-1].end, ptoks[-1].end, " " + phrase))
    return _apply(prev.text, edits)


def _new_measure_question(prev: _Parse, subject: str, measure: str) -> str:
    """A what-question for a new measure when the previous question had none to swap ("When did
    AIDC turn profitable?" + "its margins" -> "What were AIDC's margins?")."""
    be = "were" if _is_plural(measure) else "was"
    owner = f"{subject}'s " if subject else "the "
    period = f" {prev.span(prev.period)}" if prev.period else ""
    return f"What {be} {owner}{measure}{period}?"


def _resolve_pronoun(prev: _Parse, clause: str) -> str | None:
    """A follow-up question with its first personal pronoun (or a demonstrative after a
    preposition: "about that") replaced by what it points to in the previous question: the
    subject for a possessive ("its EBITDA") or when the follow-up names its own measure ("how many
    customers does it have?"), otherwise the whole topic ("how fast did it grow?" -> "cloud
    revenue"). The previous question's period carries over unless the follow-up names one."""
    toks, period = _tag(clause)
    k = next((k for k, t in enumerate(toks) if t.tag == "PRON" or (
        t.low in ("this", "that") and k and toks[k - 1].tag == "PREP"
        and (k + 1 == len(toks) or toks[k + 1].tag not in _CONTENT))), None)
    if k is None:
        return None
    t = toks[k]
    possessive = t.low in _POSSESSIVE_PRONOUN or (t.low == "her" and k + 1 < len(toks) and toks[k + 1].tag in _CONTENT)
    entity, topic = prev.entity(), prev.topic()
    if possessive:
        owner = entity or topic
        ref = owner + "'s" if owner and not owner.endswith("'s") else owner
    else:
        ref = entity if entity and any(u.tag == "MEASURE" for u in toks) else topic or entity
    if not ref:
        return None
    out = clause[:t.start] + ref + clause[t.end:]
    if prev.period and not period:
        end = toks[-1].end + len(ref) - (t.end - t.start)
        out = out[:end] + " " + prev.span(prev.period) + out[end:]
    out = out.rstrip(" ?.!") + "?"
    return out[0].upper() + out[1:]


def _inflect(verb: str, aux: str) -> str:
    """A verb as it reads without its do-support auxiliary: "did launch" -> "launched", "does
    have" -> "has", "do sell" -> "sell"."""
    v = verb.lower()
    if aux == "did":
        return _PAST.get(v) or (v + "d" if v.endswith("e") else v[:-1] + "ied" if re.search(r"[^aeiou]y$", v)
                                else v + "ed")
    if aux == "does":
        return "has" if v == "have" else v[:-1] + "ies" if re.search(r"[^aeiou]y$", v) else (
            v + "es" if v.endswith(("s", "sh", "ch", "x", "z", "o")) else v + "s")
    return verb


def _predicate(prev: _Parse, v: int) -> str:
    """The previous question from its verb or auxiliary (index `v`) on, as a relative clause reads
    it: "asked about buybacks", "is growing fastest", "did Alibaba launch in March" -> "Alibaba
    launched in March", "has Alibaba acquired" -> "Alibaba has acquired"."""
    toks, end = prev.toks, prev.toks[-1].end
    t = toks[v]
    if t.tag == "AUX":
        verb = next((k for k in range(v + 2, len(toks)) if toks[k].tag == "VERB"), None)
        if verb is None and t.low in ("did", "does", "do"):  # a verb outside the lexicon: the last lower-case word
            stop = next((k for k in range(v + 1, len(toks)) if toks[k].tag in ("PREP", "PERIOD") or toks[k].low == "as"),
                        len(toks))
            verb = next((k for k in range(stop - 1, v + 1, -1) if toks[k].text.islower() and toks[k].tag != "DET"), None)
        if verb is not None:  # the question word is the object: "did Alibaba launch" -> "Alibaba launched"
            said = _inflect(toks[verb].text, t.low) if t.low in ("did", "does", "do") else f"{t.low} {toks[verb].text}"
            return f"{prev.text[toks[v + 1].start:toks[verb - 1].end]} {said}{prev.text[toks[verb].end:end]}"
    return prev.text[t.start:end]


def _referent(prev: _Parse, noun: str) -> str | None:
    """What a demonstrative noun phrase ("that analyst") stands for after a who/which question:
    "Who asked about X?" -> "the analyst who asked about X"; "Which segment grew fastest?" -> "the
    segment that grew fastest"; "What product did Alibaba launch?" -> "the product that Alibaba
    launched"; "Who is the CFO of Alibaba?" -> "the CFO of Alibaba". None after other questions."""
    toks = prev.toks
    if len(toks) < 2 or toks[0].low not in ("who", "which", "what"):
        return None
    who = toks[0].low == "who"
    if not who and toks[1].tag in ("AUX", "WH", "VERB", "PREP", "DET"):
        return None
    if who and toks[1].low in ("is", "was", "are", "were"):
        return prev.topic() or None
    v = next((k for k in range(1, len(toks)) if toks[k].tag in ("VERB", "AUX")), 1 if who else 2)
    if v >= len(toks):
        return None
    between = prev.text[toks[1].start:toks[v - 1].end] if v > 1 else ""
    words = {w.lower().rstrip("s") for w in between.split()}
    head = f"{noun} {between}".strip() if who else between if noun.rstrip("s") in words else noun
    person = who or any(w in _PEOPLE for w in {*words, noun.rstrip("s")})
    return f"the {head} {'who' if person else 'that'} {_predicate(prev, v)}"


def _resolve_demonstrative(prev: _Parse, clause: str) -> str | None:
    """A follow-up question with its demonstrative noun phrase ("that analyst", "those customers")
    replaced by what a previous who/which question asked about (see `_referent`)."""
    toks, _ = _tag(clause)
    k = next((k for k, t in enumerate(toks[:-1]) if t.low in _DEMONSTRATIVE and (k == 0 or toks[k - 1].tag != "VERB")
              and toks[k + 1].tag in ("SUBJECT", "ATTR", "MEASURE") and toks[k + 1].text.islower()), None)
    ref = _referent(prev, toks[k + 1].low) if k is not None else None
    if not ref:
        return None
    j = k + 2
    while toks[k + 1].poss and j < len(toks) and toks[j].tag in ("SUBJECT", "ATTR", "MEASURE"):
        j += 1
    if j > k + 2:  # "that segment's margin" -> "the margin of the segment that ..."
        out = f"{clause[:toks[k].start]}the {clause[toks[k + 2].start:toks[j - 1].end]} of {ref}{clause[toks[j - 1].end:]}"
    else:
        out = clause[:toks[k].start] + ref + ("'s" if toks[k + 1].poss else "") + clause[toks[k + 1].end:]
    out = out.rstrip(" ?.!") + "?"
    return out[0].upper() + out[1:]


def complete(question: str, history: list[str]) -> str:
    """The follow-up rewritten as a standalone question; unchanged when it already is one.

    >>> complete("and AIDC?", ["How much did cloud revenue grow?"])
    'How much did AIDC revenue grow?'
    >>> complete("what about its adjusted EBITDA?", ["What was Taobao and Tmall Group revenue?"])
    'What was Taobao and Tmall Group adjusted EBITDA?'
    >>> complete("how fast did it grow?", ["What was cloud revenue?"])
    'How fast did cloud revenue grow?'
    >>> complete("what about 2023?", ["What were total revenues in 2024?"])
    'What were total revenues in 2023?'
    """
    if not history or not is_elliptical(question):
        return question
    asked, clause = question, _LEAD.sub("", question.strip())
    stripped, quals, asides = _qualifiers(question)
    if not _WH.match(clause) or not _content_spans(_PRONOUN.sub(" ", _LEAD.sub("", stripped.strip()))):
        # a fragment, or the same question again ("what was it on a GAAP basis?"): qualifiers apart
        question, clause = stripped, _LEAD.sub("", stripped.strip())
    else:
        quals, asides = [], []
    prep = re.match(r"(?:\s*(?:and|also|(?:what|how)\s+about)\s+)?(for|of|in|at|from|on)\s", question, re.I)
    prev = _parse(history[-1].strip(), prep.group(1).lower() if prep else "")
    if not prev.toks:
        return asked
    rest = clause.rstrip(" ?.!")
    if _WH.match(rest) and _content_spans(_PRONOUN.sub(" ", rest)):
        resolved = _resolve_demonstrative(prev, clause) or _resolve_pronoun(prev, clause)
        if resolved:
            return resolved
        if _LEAD.match(question):
            # "and how much remains under the authorization?": carry the previous topic along
            topic = " ".join(w for w in (prev.span(prev.subject), prev.span(prev.measure)) if w)
            return f"{rest[0].upper()}{rest[1:]}? ({topic})" if topic else question
        return question
    return _complete_fragment(prev, rest, quals, asides)
