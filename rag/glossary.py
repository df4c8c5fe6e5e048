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
from pathlib import Path

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


# General financial vocabulary and the line items' names, kept as data: rag/finance_glossary.toml
FINANCE_ALIASES = (Path(__file__).with_name("finance_glossary.toml")).read_text(encoding="utf-8")


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
        low = question.lower()
        for key, spellings in self.aliases:
            if key.lower() not in low:  # most keys are absent: a substring test before the regex
                continue
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
