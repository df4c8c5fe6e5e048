"""Per-corpus glossary: the names users type mapped to how the documents spell them (a machine
transcript writes "ADA VIP" for 88VIP). A `glossary.toml` at the root of an ingested folder is
stored in the index; before retrieval a question that uses a key is expanded with its spellings.

    [aliases]
    "88VIP" = ["ADA VIP"]
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from rag.errors import RagError


def parse_glossary(text: str) -> dict[str, list[str]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RagError(f"glossary.toml is not valid TOML: {e}") from None
    aliases = data.get("aliases", {})
    if not isinstance(aliases, dict) or not all(
            isinstance(v, list) and all(isinstance(s, str) for s in v) for v in aliases.values()):
        raise RagError('glossary.toml: [aliases] must map names to lists of spellings, e.g. "88VIP" = ["ADA VIP"]')
    return {k: list(v) for k, v in aliases.items() if k.strip() and v}


# General financial vocabulary, true of any company's documents: abbreviations and the common
# synonyms analysts use. A corpus glossary adds its own names on top.
FINANCE_ALIASES = """
[aliases]
"CFO" = ["Chief Financial Officer"]
"CEO" = ["Chief Executive Officer"]
"COO" = ["Chief Operating Officer"]
"CTO" = ["Chief Technology Officer"]
"Chief Financial Officer" = ["CFO"]
"Chief Executive Officer" = ["CEO"]
"EPS" = ["earnings per share", "net income per share"]
"earnings per share" = ["EPS"]
"capex" = ["capital expenditures", "CapEx"]
"capital expenditures" = ["capex"]
"FCF" = ["free cash flow"]
"GMV" = ["gross merchandise volume"]
"gross merchandise volume" = ["GMV"]
"RPO" = ["remaining performance obligation"]
"cRPO" = ["current remaining performance obligation"]
"comps" = ["comparable sales"]
"YoY" = ["year-over-year"]
"QoQ" = ["quarter-over-quarter"]
"R&D" = ["research and development"]
"buyback" = ["repurchase"]
"buybacks" = ["repurchases"]
"repurchase" = ["buyback"]
"repurchases" = ["buybacks"]
"sales" = ["revenue"]
"revenue" = ["sales"]
"top line" = ["revenue"]
"bottom line" = ["net income"]
"profit" = ["income"]
"headcount" = ["employees"]
"stake" = ["interest"]
"role" = ["position", "executive"]
"close" = ["complete"]
"closing" = ["completion"]
"worldwide" = ["globally"]
"globally" = ["worldwide"]
"DAU" = ["daily active users"]
"DAUs" = ["daily active users"]
"daily active users" = ["DAUs"]
"MAU" = ["monthly active users"]
"MAUs" = ["monthly active users"]
"monthly active users" = ["MAUs"]
"losing money" = ["loss"]
"lose money" = ["loss"]
"lost money" = ["loss"]
"make money" = ["profitable"]
"making money" = ["profitable"]
"staff" = ["employees"]
"workforce" = ["employees"]
"employ" = ["employees"]
"employs" = ["employees"]
"""


@dataclass(frozen=True)
class Glossary:
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def from_texts(cls, texts: list[str], finance: bool = True) -> Glossary:
        """Merge glossaries (the general financial one first unless `finance` is False)."""
        merged: dict[str, list[str]] = {}
        for t in ([FINANCE_ALIASES] if finance else []) + list(texts):
            for k, v in parse_glossary(t).items():
                merged.setdefault(k, [])
                merged[k] += [s for s in v if s not in merged[k]]
        # longest keys first, so "Taobao and Tmall Group" wins over "Taobao"
        return cls(tuple(sorted(((k, tuple(v)) for k, v in merged.items()), key=lambda kv: -len(kv[0]))))

    def expansions(self, question: str) -> list[tuple[str, tuple[str, ...]]]:
        """(key as found in the question, its spellings) for every key the question uses."""
        found, taken = [], []
        for key, spellings in self.aliases:
            for m in re.finditer(rf"(?<!\w){re.escape(key)}(?!\w)", question, re.I):
                if any(s < m.end() and m.start() < e for s, e in taken):
                    continue
                taken.append((m.start(), m.end()))
                found.append((m.group(0), spellings))
                break
        return found

    def expand(self, question: str) -> str:
        """The question with each key's spellings appended, for retrieval."""
        extra = [s for _, spellings in self.expansions(question) for s in spellings]
        return question if not extra else f"{question} ({'; '.join(extra)})"
