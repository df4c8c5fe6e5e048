"""Chunking: token-sized passages made of whole sentences (or table rows), each knowing where it
came from: source, title, page, section heading, transcript segment, speaker and analyst ("Name
(Firm)" of the questioner whose Q&A turn it is in), and its exact character offsets in the page's
(or document's) extracted text.

Call transcripts are read from the structure of the common vendor layouts (participants lists,
speaker labels, the operator's introductions), not from lists of names; see "transcript structure".

Left out on purpose: semantic or layout-aware chunking, chunks spanning PDF pages (a citation
names one page), and speakers a transcript names only in prose or by a nickname ("Doug" for
"Douglas" matches, by initial; "Bob" for "Robert" does not).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.text import Unit, count_tokens, split_units


@dataclass(frozen=True)
class Page:
    """Extracted text of one page (PDF) or of a whole document (page None)."""

    text: str
    page: int | None = None
    # (start, end, x0, x1) of each word on a PDF page that holds a table (rag.facts reads columns
    # from it); None elsewhere
    layout: tuple[tuple[int, int, float, float], ...] | None = None
    # whether a row label's x is its depth (a PDF's indent); an HTML table's indent is its style
    indents: bool = True


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    source: str
    title: str
    page: int | None
    section: str | None
    segment: str | None
    speaker: str | None
    analyst: str | None
    start: int
    end: int
    doc_hash: str
    index: int
    header: str | None = None  # the column header above a table chunk ("2022 Change 2021 ...")

    @property
    def file_name(self) -> str:
        """The source's file name as words ("APPLE_2022_10K.pdf" -> "APPLE 2022 10K"): it often
        names the company and period that the title leaves out."""
        return Path(self.source).stem.replace("_", " ")

    def embed_text(self) -> str:
        """What the embedder reads: the passage under its document title and section, so a
        table row from Apple's 10-K is not just numbers (the stored text stays exact)."""
        head = " / ".join(x for x in (self.title, self.segment or self.section, self.header) if x)
        return f"{head}\n{self.text}" if head else self.text

    def metadata(self) -> dict:
        """Chroma metadata: scalars only, None dropped (Chroma rejects None values)."""
        meta = asdict(self)
        del meta["id"], meta["text"]
        return {k: v for k, v in meta.items() if v is not None}

    @classmethod
    def from_record(cls, id: str, text: str, meta: dict) -> Chunk:
        fields = {f: meta.get(f) for f in cls.__dataclass_fields__ if f not in ("id", "text")}
        return cls(id=id, text=text, **fields)


# --- transcript structure --------------------------------------------------------------------
#
# Call transcripts come in several vendor layouts, read here from their structure, never from
# known names:
#   - a participants list: "Corporate Participants" / "Conference Call Participants",
#     "Executives" / "Analysts" or a mixed "Call participants:" heading over entries such as
#     "Name - Title", "Name, Firm", "Name -- Firm -- Analyst", or a name with its firm or title on
#     the next line ("* Brian Nowak" / "Morgan Stanley, Research Division - Analyst");
#   - speaker labels, inline ("Name: ...", "Name - Firm - Title: ...", "Name (Firm): ...") or a line
#     of their own ("Operator", "Brian Nowak, Morgan Stanley, Research Division - Analyst [11]", a
#     bare name, perhaps over a firm or title line) with the words on the lines below;
#   - the operator's introductions ("Our next question comes from Doug Anmuth of JPMorgan.").
# The questioner of a Q&A turn is the person the operator introduces, or a speaker whose label or
# listing marks them as an analyst (an "Analyst" title, a "Research Division", the analysts' part
# of the list). People are matched by first initial and surname, so "Brian Thomas Nowak" in the
# list is the "Brian Nowak" the operator introduces.

_INTRO_LEAD = r"(?i:first|next|following|last|final)"
_QUESTION_FROM = re.compile(
    r"(?:" + _INTRO_LEAD + r"\s+(?i:question|questioner|caller)\s+(?i:today\s+)?(?i:comes|is\s+coming|is|will\s+come)\s+from"
    r"|(?i:take|have)\s+(?i:our|the|your)\s+" + _INTRO_LEAD + r"\s+(?i:question)\s+from"
    r"|(?i:go\s+next\s+to|next,?\s+(?:we'll|we\s+will|let's)\s+(?:go|move|turn)\s+to))"
    r"(?:\s+the\s+line\s+of)?\s+(?:(?:Mr|Mrs|Ms|Dr)\.?[ \t]+)?"
    # names and firms stay on their line: "... Brian Nowak.\nBrian Nowak - Morgan Stanley:" is two lines
    r"(?P<name>[A-Z][\w.'-]*(?:[ \t]+[A-Z][\w.'-]*){0,3})"
    r"(?:[ \t]*(?:,|with|from|of|at)[ \t]+"
    r"(?P<firm>[A-Z][\w.&'-]*(?:(?:[ \t]+(?:of|and|&|de|du))?[ \t]+[A-Z&][\w.&'-]*){0,4}))?",
)
_CALL_OPENING = re.compile(  # the greeting may wrap onto a second line, not into a new paragraph
    r"(?:welcome to|thank you for standing by|good (?:day|morning|afternoon|evening))(?:.|\n(?!\s*\n)){0,160}?"
    r"\b(?:call|conference|teleconference|webcast)\b", re.I)
_QA_OPENING = re.compile(
    r"open (?:it |the (?:call|line|floor) )?(?:up )?(?:the (?:call|line|floor) )?for (?:q&a|questions)|"
    r"question-and-answer session|"
    r"q&a session|begin the question|"
    r"^[^\w\n]*questions?[ \t]*(?:and|&)[ \t]*answers?\b", re.I | re.M)
# "After the presentation, there will be a question-and-answer session", "Tomas will join us for
# the Q&A": announced, not begun ("We will now begin the question-and-answer session" begins it).
_QA_ANNOUNCED = re.compile(r"\b(?:will|'ll|shall|later|after|following|at the end)\b", re.I)
_QA_CLOSING = re.compile(
    r"no further questions|"
    r"(?:concludes|conclude|wraps up|ends|completes)\s+(?:our|the|today's|this)\s+"
    r"(?:question-and-answer|q\s?&\s?a|questions?\s+and\s+answers?)\b|"
    r"\bfor (?:any )?(?:closing|concluding|final) (?:remarks|comments)", re.I)
_SEGMENT_HEADING = re.compile(
    r"[^\w\n]*(?:questions?[ \t]*(?:and|&)[ \t]*answers?|q[ \t]*&[ \t]*a|prepared remarks|presentation)[^\w\n]*", re.I)
_OPERATOR_LABEL = re.compile(r"^[^\w\n]*operator[ \t]*(?:\[\d+\])?[ \t]*(?::|$)", re.I | re.M)
_SPEAKER_LINE = re.compile(r"^(?P<name>[A-Z][\w.'-]+(?:[ \t]+[A-Z][\w.'-]+){0,3})(?:[ \t]+--[ \t]+[^\n:]{2,80})?:\s")

_ROSTER_HEAD = re.compile(
    r"^[^\w\n]*(?P<kind>(?:(?:corporate|company|conference[ \t]+call|call|other)[ \t]+)?participants|"
    r"executives|analysts|company[ \t]+representatives)[^\w\n]*$", re.I | re.M)
_ROSTER_ROLES = {"analysts": "analyst", "conference call participants": "analyst", "other participants": "analyst",
                 "executives": "executive", "corporate participants": "executive",
                 "company participants": "executive", "company representatives": "executive"}
_BULLET = re.compile(r"[ \t]*(?:[*•·▪-][ \t]+)?")
_INLINE_LABEL = re.compile(r"(?P<who>[^:\n]{2,120}?)[ \t]*:[ \t]+(?=\S)")
_TURN_NUMBER = re.compile(r"[ \t]*\[\d+\]")  # "Operator [1]": a vendor's running count of turns
_DASH = re.compile(r"[ \t]+(?:-{1,2}|–|—)[ \t]+")
# A sentence end, not the dot of an initial or of "Inc.": a label is never a sentence.
_SENTENCE = re.compile(r"(?<!\bInc)(?<!\bCo)(?<!\bLtd)(?<!\bCorp)(?<!\bJr)(?<!\bSr)(?<!\b[A-Z])[.?!](?:\s|$)")
_ANALYST_TITLE = re.compile(r"\banalyst\b|\bresearch division\b", re.I)
_EXEC_TITLE = re.compile(
    r"\b(?:CEO|CFO|COO|CTO|CIO|CAO|CMO|Chief|President|Chair(?:man|woman|person)?|Officer|Director|Head|VP|SVP|EVP|"
    r"Vice|Founder|Treasurer|Investor Relations|IR|Secretary|Controller|Counsel|Executive|Manager|Partner|MD)\b")
_COMPANY = re.compile(r"\b(?:Inc|Ltd|LLC|LLP|Corp|Corporation|Co|Company|Group|Holdings?|Securities|Capital|Partners|"
                      r"Bank|Research|Markets|Advisors|Equities|Investments|AG|SA|plc|PLC)\b")
_NAME_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’.-])*")
_PARTICLES = {"de", "da", "di", "del", "der", "den", "van", "von", "le", "la", "du", "bin", "al", "dos", "das"}
_NOT_NAMES = set("""
    operator presentation participants participant executives analysts analyst corporate conference call calls
    remarks prepared questions question answers answer session instructions earnings quarter results statements
    statement forward-looking management revenue total net income disclaimer copyright transcript contents
    overview outlook summary note notes safe harbor financial fiscal event date page thanks thank hello hi good yes
    okay ok great sure well so next first ladies gentlemen everyone inc ltd llc corp corporation group holding
    holdings company co plc limited securities bank capital research division partners unidentified unknown
    nyse nasdaq""".split())
_NAME_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "cfa", "phd"}


@dataclass(frozen=True)
class Person:
    """Someone on a call as the transcript describes them."""

    name: str
    firm: str | None
    role: str | None  # "analyst" | "executive" | None where the transcript does not say

    def label(self) -> str:
        """How a chunk names its questioner: "Brian Nowak (Morgan Stanley)", or the name alone."""
        return f"{self.name} ({self.firm})" if self.firm else self.name


@dataclass(frozen=True)
class Turn:
    """One speaker's turn: `text[start:body]` is the label, the words follow."""

    start: int
    body: int
    name: str
    role: str | None  # "operator" | "analyst" | "executive" | None


Cast = dict[tuple[str, str], Person]


def _person_key(name: str) -> tuple[str, str]:
    """First initial and surname: "Brian Thomas Nowak", "Brian Nowak" and "Brian T. Nowak, Jr."
    are one person to a call's operator, list and labels."""
    words = [w.strip(".,").lower() for w in name.split()]
    words = [w for w in words if w and w not in _NAME_SUFFIXES]
    return (words[0][:1], words[-1]) if words else ("", "")


def _is_name(name: str) -> bool:
    """Looks like a person's name: one to five capitalised words, none of them a heading's,
    a company's or a greeting's ("Alibaba Group Holding Ltd", "Questions and Answers", "Thanks")."""
    words = name.split()
    if not 1 <= len(words) <= 5 or not words[0][:1].isupper():
        return False
    return all((w in _PARTICLES or (w[0].isupper() and _NAME_WORD.fullmatch(w)))
               and w.strip(".").lower() not in _NOT_NAMES for w in words)


def _is_detail(line: str) -> bool:
    """A firm or title line under a name ("Morgan Stanley, Research Division", "Senior VP & CFO"),
    not the first line of what the speaker says."""
    return (len(line.split()) <= 10 and line[:1].isupper() and not _SENTENCE.search(line)
            and bool(_ANALYST_TITLE.search(line) or _EXEC_TITLE.search(line) or _COMPANY.search(line)))


def _firm_and_role(details: list[str]) -> tuple[str | None, str | None]:
    """The firm and role a label's or listing's details give: ["Morgan Stanley, Research Division",
    "Analyst"] -> ("Morgan Stanley", "analyst"); ["Director, IR"] -> (None, "executive")."""
    said = " - ".join(details)
    role = "analyst" if _ANALYST_TITLE.search(said) else "executive" if _EXEC_TITLE.search(said) else None
    for part in _DASH.split(said):
        part = re.sub(r",?[ \t]*research division\b.*$", "", part, flags=re.I).strip(" ,")
        # "Amazon.com, Inc." is one firm; "Analyst, Morgan Stanley" is a title and a firm
        pieces = part.split(",") if _ANALYST_TITLE.search(part) or _EXEC_TITLE.search(part) else [part]
        for piece in (p.strip() for p in pieces):
            if piece and not _ANALYST_TITLE.search(piece) and not _EXEC_TITLE.search(piece):
                return piece, role
    return None, role


def _read_label(line: str) -> tuple[str, list[str], int | None] | None:
    """(name, details, said) when `line` is or opens with a speaker label: "Operator", "Brian Nowak,
    Morgan Stanley, Research Division - Analyst [11]", "Jane Roe (Acme): Thanks." (details
    ["Acme"], said: the offset in `line` of "Thanks."; None for a label on a line of its own)."""
    lead = _BULLET.match(line).end()
    inline = _INLINE_LABEL.match(line, lead)
    who = _TURN_NUMBER.sub("", inline["who"] if inline else line[lead:]).strip().rstrip(":").rstrip()
    said = inline.end() if inline else None
    if not who or len(who) > 120 or _SENTENCE.search(who):
        return None
    if who.lower() == "operator":
        return "Operator", [], said
    paren = re.fullmatch(r"([^()]+?)[ \t]*\(([^()]+)\)", who)
    if paren:
        name, details = paren[1], [paren[2].strip()]
    else:
        head, *rest = _DASH.split(who)
        name, _, firm = head.partition(",")
        details = [d.strip() for d in (firm, *rest) if d.strip()]
    name = name.strip()
    if not _is_name(name) or any(not (d[0].isupper() or d[0].isdigit()) for d in details):
        return None
    return name, details, said


def _lines(text: str, pos: int = 0):
    """(start, end) of each line from `pos` on, the newline left out."""
    while pos <= len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        yield pos, end
        pos = end + 1


def _next_text_line(text: str, pos: int) -> tuple[int, int] | None:
    """The first line after offset `pos` with a word in it (rules of "=" or "-" are skipped)."""
    newline = text.find("\n", pos)
    if newline < 0:
        return None
    for s, e in _lines(text, newline + 1):
        if re.search(r"\w", text[s:e]):
            return s, e
    return None


def roster_blocks(text: str) -> list[tuple[int, int, list[Person]]]:
    """The participants lists in `text`: (start, end, people) each. A person's role is their part
    of the list ("Analysts", "Corporate Participants") or, in a mixed list, what their title says."""
    blocks: list[tuple[int, int, list[Person]]] = []
    for head in _ROSTER_HEAD.finditer(text):
        if blocks and head.start() < blocks[-1][1]:
            continue  # a part ("ANALYSTS") of a list already read
        role, end, people = _ROSTER_ROLES.get(" ".join(head["kind"].lower().split())), head.end(), []
        pending: tuple[str, bool, int] | None = None  # (name, bulleted, end): its firm or title may follow
        gap = False  # a blank line (or a rule) since the last entry
        for s, e in _lines(text, head.end() + 1):
            raw = text[s:e]
            if not re.search(r"\w", raw):
                gap = True
                continue
            bulleted = bool(re.match(r"[ \t]*[*•·▪-][ \t]", raw))
            if (pending and not gap and not bulleted and (pending[1] or _is_detail(raw.strip()))
                    and not _OPERATOR_LABEL.match(raw)):
                people.append(_listed(pending[0], [raw.strip()], role))
                end, pending = e, None
                continue
            sub = _ROSTER_HEAD.fullmatch(raw)
            label = None if sub else _read_label(raw)
            # "Sam Poe, Acme - CEO [3]": a turn's number marks a speaker's label, never a listing
            listed = bool(sub or (label and label[2] is None and label[0] != "Operator"
                                  and not _TURN_NUMBER.search(raw)))
            if pending and (listed or gap):  # a name alone in the list
                people.append(_listed(pending[0], [], role))
                end = pending[2]
            pending, gap = None, False
            if not listed:
                break  # the list is over (a name right above what is said is a speaker's label)
            if sub:
                role, end = _ROSTER_ROLES.get(" ".join(sub["kind"].lower().split()), role), e
            elif label[1]:
                people.append(_listed(label[0], label[1], role))
                end = e
            else:
                pending = (label[0], bulleted, e)
        else:
            if pending:
                people.append(_listed(pending[0], [], role))
                end = pending[2]
        if people:
            blocks.append((head.start(), end, people))
    return blocks


def _listed(name: str, details: list[str], role: str | None) -> Person:
    firm, titled = _firm_and_role(details)
    return Person(name, firm, role or titled)


def _labels(text: str, skip: list[tuple[int, int]]) -> list[tuple[int, int, str, list[str], bool]]:
    """Speaker labels outside the participants lists (`skip`), in order: (start, body, name,
    details, inline). A label on a line of its own takes the firm or title line below it along."""
    found: list[tuple[int, int, str, list[str], bool]] = []
    after = 0
    for s, e in _lines(text):
        if s < after or any(a <= s < b for a, b in skip):
            continue
        label = _read_label(text[s:e])
        if label is None:
            continue
        name, details, said = label
        if said is not None:
            found.append((s, s + said, name, details, True))
            continue
        below = _next_text_line(text, e)
        line = text[below[0]:below[1]].strip() if below else ""
        if below and name != "Operator" and _is_detail(line) and not _ROSTER_HEAD.fullmatch(line):
            details = [*details, line]
            below = _next_text_line(text, below[1])
        if below is None:
            continue  # nothing is said after it: not a turn
        found.append((s, below[0], name, details, False))
        after = below[0]
    return found


def _introduced(m: re.Match) -> Person:
    """The questioner an operator's introduction names."""
    name, firm = m["name"].strip().rstrip(".,"), (m["firm"] or "").strip()
    firm = re.split(r"\.\s|\s(?:Please|Your)\b", firm)[0].rstrip(". ")
    if firm.split(" ")[0] in ("Please", "Your", "Go", "Thank", "Thanks", "You"):
        firm = ""  # "... comes from Brian Nowak, please go ahead"
    return Person(name, firm or None, "analyst")


def _meet(cast: Cast, person: Person, said_outright: bool) -> None:
    """Add what one source says of a person. The first name and firm met stay (the operator's are
    met first: "Brian Nowak (Morgan Stanley)", not the list's "Brian Thomas Nowak"); a role said
    outright in the list or a label wins over one inferred from being introduced."""
    key = _person_key(person.name)
    known = cast.get(key)
    if known is None:
        cast[key] = person
        return
    role = person.role if said_outright and person.role else known.role or person.role
    cast[key] = Person(known.name, known.firm or person.firm, role)


def is_transcript(text: str) -> bool:
    """A call transcript: it opens like a call, or has an operator introducing questions or speaking."""
    return bool(_CALL_OPENING.search(text) or _QUESTION_FROM.search(text) or _OPERATOR_LABEL.search(text))


def read_cast(text: str) -> Cast:
    """Who is on a call, by `_person_key`: the operator's introductions, the participants lists,
    labels that give a title, and names that label several turns on lines of their own."""
    cast: Cast = {}
    for m in _QUESTION_FROM.finditer(text):
        _meet(cast, _introduced(m), said_outright=False)
    blocks = roster_blocks(text)
    for _, _, people in blocks:
        for person in people:
            _meet(cast, person, said_outright=True)
    bare: dict[tuple[str, str], list[str]] = {}
    for _, _, name, details, inline in _labels(text, [(s, e) for s, e, _ in blocks]):
        firm, role = _firm_and_role(details)
        if name == "Operator":
            continue
        if role or _person_key(name) in cast:
            _meet(cast, Person(name, firm, role), said_outright=role is not None)
        elif not inline and not details and len(name.split()) >= 2:
            bare.setdefault(_person_key(name), []).append(name)
    for names in bare.values():
        if len(names) >= 2:  # a bare name that opens several turns is a speaker, not a heading
            _meet(cast, Person(names[0], None, None), said_outright=False)
    return cast


def speaker_turns(text: str, cast: Cast) -> list[Turn]:
    """The speakers' turns in `text`, in order. A label is taken when it is the operator's, names
    someone in `cast`, gives a title, or (inline) looks like a person's name; participants lists
    are not turns."""
    turns: list[Turn] = []
    for start, body, name, details, inline in _labels(text, [(s, e) for s, e, _ in roster_blocks(text)]):
        _, role = _firm_and_role(details)
        known = cast.get(_person_key(name))
        if name == "Operator":
            role = "operator"
        elif not (known or role or (inline and (details or len(name.split()) >= 2))):
            continue
        # one name per person: "ELENA MARCHETTI:" and "Oliver James Pratt, ..." as the list or operator say it
        turns.append(Turn(start, body, known.name if known else name, role or (known.role if known else None)))
    return turns


def _line_at(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _qa_opening(text: str, after: int) -> re.Match | None:
    """Where the Q&A begins by its announcement, not where the opening says there will be one, nor
    a table of contents above the call (`after`: where the call opens)."""
    for m in _QA_OPENING.finditer(text, after):
        sentence = re.split(r"[.!?\n]", text[max(0, m.start() - 200):m.start()])[-1]
        if not _QA_ANNOUNCED.search(sentence) or re.search(r"\bnow\b", sentence, re.I):
            return m
    return None


def transcript_markers(text: str, cast: Cast | None = None,
                       turns: list[Turn] | None = None) -> list[tuple[int, str | None, str | None]]:
    """(offset, segment, analyst) where a call transcript's segment or questioner changes; empty
    for a text that is not a call transcript. A participants list is (offset, None, None) at both
    ends: it is no part of the call. `cast` and `turns` are read from `text` when not given (a
    PDF's pages share the cast of the whole document)."""
    if cast is None:
        if not is_transcript(text):
            return []
        cast = read_cast(text)
    turns = speaker_turns(text, cast) if turns is None else turns
    markers: list[tuple[int, str | None, str | None]] = []
    for start, end, _ in roster_blocks(text):
        markers += [(start, None, None), (min(end + 1, len(text)), None, None)]
    questions = list(_QUESTION_FROM.finditer(text))
    asks = [t for t in turns if t.role == "analyst"]
    opening = _CALL_OPENING.search(text)
    qa = _qa_opening(text, _line_at(text, opening.start()) if opening else 0)
    if not (opening or questions or asks):
        return markers
    if opening:
        markers.append((_line_at(text, opening.start()), "Prepared remarks", None))
    starts = [m.start() for m in (qa, *questions[:1]) if m is not None] + [t.start for t in asks[:1]]
    qa_at = _line_at(text, min(starts)) if starts else len(text)
    if starts:
        markers.append((qa_at, "Q&A", None))
    askers = [(_line_at(text, m.start()), _introduced(m)) for m in questions]
    askers += [(t.start, Person(t.name, None, "analyst")) for t in asks]
    for at, person in sorted(askers, key=lambda a: a[0]):
        person = cast.get(_person_key(person.name), person)
        markers.append((at, "Q&A", person.label()))
    for m in _QA_CLOSING.finditer(text):
        turn = next((t for t in reversed(turns) if t.start <= m.start()), None)
        if _line_at(text, m.start()) > qa_at and not (turn and turn.role == "analyst"):  # "no further questions from me"
            markers.append((_line_at(text, m.start()), "Q&A", None))
    # A marker on a turn's first line belongs to the whole turn, its label included.
    markers = [(next((t.start for t in turns if t.start < at <= t.body), at), seg, who) for at, seg, who in markers]
    markers.sort(key=lambda m: m[0])
    # A marker that changes nothing ("... for closing remarks" after "no further questions") would
    # only cut a turn in two.
    return [m for i, m in enumerate(markers) if i == 0 or m[1:] != markers[i - 1][1:]]


# --- chunking --------------------------------------------------------------------------------

def chunk_id(source: str, doc_hash: str, index: int, text: str, size: int, overlap: int) -> str:
    """Content-derived id: the same chunk written twice is the same record."""
    key = json.dumps({"source": source, "doc": doc_hash, "i": index, "text": text,
                      "size": size, "overlap": overlap}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _split_long(text: str, unit: Unit, size: int) -> list[Unit]:
    """Cut a unit longer than `size` tokens at word boundaries (run-on lines, huge table rows)."""
    pieces, start = [], unit.start
    word_ends = [m.end() for m in re.finditer(r"\S+", text[unit.start:unit.end])]
    last = unit.start
    for we in word_ends:
        end = unit.start + we
        if count_tokens(text[start:end]) > size and last > start:
            pieces.append(Unit(start, last, unit.kind))
            start = last + len(text[last:end]) - len(text[last:end].lstrip())
        last = end
    pieces.append(Unit(start, unit.end, unit.kind))
    return pieces


def _cut_at(text: str, units: list[Unit], cuts: list[int]) -> list[Unit]:
    """Units cut where a turn or marker begins inside them: the sentence splitter joins a speaker
    label to the line above when that line has no closing punctuation."""
    cuts = sorted(set(cuts))
    out: list[Unit] = []
    for u in units:
        start = u.start
        for c in cuts[bisect.bisect_right(cuts, u.start):bisect.bisect_left(cuts, u.end)]:
            out.append(Unit(start, start + len(text[start:c].rstrip()), u.kind))
            start = c + len(text[c:u.end]) - len(text[c:u.end].lstrip())
        out.append(Unit(start, u.end, u.kind))
    return out


def _layout(text: str, cast: Cast | None) -> tuple[list[tuple[int, str, object]], list[tuple[int, int]]]:
    """A page's events in order, (offset, "marker", (segment, analyst)) and (offset, "turn",
    speaker), and the spans whose heading-like lines are text (speaker labels, list entries).
    A participants list is read in any document (`cast` None: not read as a call): who holds
    which title answers "Who is the CFO?", however short the list and whatever surrounds it."""
    lists = [(s, e) for s, e, _ in roster_blocks(text)]
    if cast is None:
        turns: list[Turn] = []
        markers = [(at, None, None) for s, e in lists for at in (s, min(e + 1, len(text)))]
    else:
        turns = speaker_turns(text, cast)
        markers = transcript_markers(text, cast, turns)
    events = [(at, "marker", (seg, who)) for at, seg, who in markers] + [(t.start, "turn", t.name) for t in turns]
    events.sort(key=lambda ev: ev[0])  # stable: markers at one offset keep their order
    return events, [(t.start, t.body) for t in turns] + lists


def _page_units(text: str, size: int, cuts: list[int], plain: list[tuple[int, int]]) -> list[tuple[Unit, int]]:
    """The page's units and their token counts: cut at `cuts`, long ones cut to `size`. A speaker's
    name line or a participants entry ("Brian Nowak") looks like a heading but is text: it must
    neither become the section nor be dropped from the chunks."""
    units: list[tuple[Unit, int]] = []
    for u in _cut_at(text, split_units(text), cuts):
        n = count_tokens(text[u.start:u.end])
        if (u.kind == "heading" and any(s <= u.start < e for s, e in plain)
                and not _ROSTER_HEAD.fullmatch(text[u.start:u.end])):
            u = Unit(u.start, u.end, "sentence")
            if units:  # short lines packed together: their line breaks count too
                n += count_tokens(text[units[-1][0].end:u.start])
        if n > size:
            units.extend((p, count_tokens(text[p.start:p.end])) for p in _split_long(text, u, size))
        else:
            units.append((u, n))
    return units


def _take_events(events: list, ei: int, offset: int, state: dict) -> tuple[int, bool, tuple | None, str | None]:
    """Consume the events up to `offset`: (next index, boundary, (segment, analyst) to set or None,
    speaker to set or None)."""
    boundary, pending, speaker = False, None, None
    while ei < len(events) and events[ei][0] <= offset:
        _, kind, value = events[ei]
        ei += 1
        if kind == "turn":
            boundary, speaker = True, value
        elif value[0] == "Prepared remarks" and state["segment"] == "Q&A":
            continue  # "good morning ... call" said during the Q&A of a later page
        else:
            boundary, pending = True, value
    return ei, boundary, pending, speaker


def chunk_document(pages: list[Page], *, source: str, title: str, doc_hash: str,
                   size: int, overlap: int) -> list[Chunk]:
    """Pack each page's units into chunks of at most `size` tokens, repeating up to `overlap`
    tokens of trailing sentences at the start of the next chunk. A heading, a transcript marker or
    a speaker's turn always starts a new chunk, so a chunk has one section, segment, analyst and
    speaker."""
    chunks: list[Chunk] = []
    section: str | None = None
    whole = "\n".join(p.text for p in pages)
    cast = read_cast(whole) if is_transcript(whole) else None  # a PDF's list on page 1 names page 5's speakers
    # A transcript's segment, analyst and speaker carry over page breaks (a PDF's Q&A runs over pages).
    state: dict[str, str | None] = {"segment": None, "analyst": None, "speaker": None}
    doc = {"source": source, "title": title, "doc_hash": doc_hash, "size": size, "overlap": overlap,
           "transcript": cast is not None}
    for page in pages:
        text = page.text
        events, plain = _layout(text, cast)
        units = _page_units(text, size, [ev[0] for ev in events], plain)
        buf: list[tuple[Unit, int]] = []
        ei = 0
        state["header"] = None  # a table's column header applies on its own page only
        for u, n in units:
            if u.kind == "row" and is_column_header(text[u.start:u.end]):
                if not buf or buf[-1][0].kind != "row":
                    state["header"] = text[u.start:u.end]
                elif state.get("header") is None:
                    state["header"] = text[u.start:u.end]
            ei, boundary, pending, speaker = _take_events(events, ei, u.start, state)
            if boundary or u.kind == "heading":
                _emit(chunks, buf, text, page.page, section, state, doc)
                buf = []
                if pending:
                    state["segment"], state["analyst"] = pending
                    section = None  # the segment is now the most specific heading
                    if pending[0] is None or u.kind == "heading" or _SEGMENT_HEADING.fullmatch(text[u.start:u.end]):
                        state["speaker"] = None  # a participants list, or a "Questions and Answers" heading
                if speaker:
                    state["speaker"] = speaker
                if u.kind == "heading":
                    section = text[u.start:u.end].strip().lstrip("#").strip()
            if buf and sum(k for _, k in buf) + n > size:
                _emit(chunks, buf, text, page.page, section, state, doc)
                tail, tokens = [], 0
                for prev in reversed(buf):
                    if prev[0].kind == "heading" or tokens + prev[1] > overlap:
                        break
                    tail.insert(0, prev)
                    tokens += prev[1]
                while tail and tokens + n > size:  # the overlap must not push the chunk past `size`
                    tokens -= tail.pop(0)[1]
                buf = tail
            buf.append((u, n))
        _emit(chunks, buf, text, page.page, section, state, doc)
    return chunks


def _emit(chunks: list[Chunk], buf: list[tuple[Unit, int]], text: str, page: int | None, section: str | None,
          state: dict, doc: dict) -> None:
    """Append the chunk made of the units in `buf` (nothing for headings alone)."""
    if not buf or all(u.kind == "heading" for u, _ in buf):
        return
    s, e = buf[0][0].start, buf[-1][0].end
    body = text[s:e]
    idx = len(chunks)
    # The speaker is the turn's; a transcript whose turns are not recognised may still label the line.
    speaker = state["speaker"] or (_speaker_at(text, s) if doc["transcript"] else None)
    chunks.append(Chunk(
        id=chunk_id(doc["source"], doc["doc_hash"], idx, body, doc["size"], doc["overlap"]), text=body,
        source=doc["source"], title=doc["title"], page=page, section=section,
        segment=state["segment"], speaker=speaker, analyst=state["analyst"],
        start=s, end=e, doc_hash=doc["doc_hash"], index=idx,
        header=state.get("header") if any(u.kind == "row" for u, _ in buf) else None))


_YEARISH = re.compile(r"^(?:FY)?(?:19|20)\d\d$|^Q[1-4]$", re.I)


def is_column_header(line: str) -> bool:
    """A table's column header: two or more years (or quarters) and few other figures."""
    tokens = line.replace(",", " ").split()
    years = sum(1 for t in tokens if _YEARISH.match(t.strip("()")))
    others = sum(1 for t in tokens if re.match(r"^[$(]?\d", t) and not _YEARISH.match(t.strip("()")))
    return years >= 2 and others <= 1


def _speaker_at(text: str, offset: int) -> str | None:
    """The 'Name:' label of the line a chunk starts in, when the transcript labels speakers."""
    line_start = text.rfind("\n", 0, offset) + 1
    m = _SPEAKER_LINE.match(text[line_start:offset + 80])
    return m.group("name") if m else None
