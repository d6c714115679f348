"""The Python wheel carries the built web app, so `pip install mantle` serves the UI."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".tools" / "bin" / "uv"


def test_the_wheel_carries_the_built_web_app(tmp_path):
    built = ROOT / "src" / "mantle" / "web" / "ui_dist"
    assert (built / "index.html").is_file(), "run `make ui` (make test does) first"
    subprocess.run(
        [str(UV), "build", "--wheel", "--out-dir", str(tmp_path), "--quiet"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("mantle-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "mantle/web/ui_dist/index.html" in names
    assets = {n for n in names if n.startswith("mantle/web/ui_dist/assets/")}
    expected = {f"mantle/web/ui_dist/assets/{p.name}" for p in (built / "assets").iterdir()}
    assert assets == expected and any(n.endswith(".js") for n in assets)
