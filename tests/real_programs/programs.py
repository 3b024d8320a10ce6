"""The real programs that open our files, run headless: LibreOffice (writer and calc) to
convert DOCX, XLSX and CSV, poppler's pdftotext and pdftoppm to read and picture the PDFs.

Each LibreOffice run gets its own fresh profile (two runs at once would otherwise fight over
one) and a time limit. A test that needs a program that is not installed is skipped with the
Debian package to install; CI installs them (.ci/run).

Pictures of page 1 go to `tests/real_programs/output/` (git-ignored, kept by CI as an
artifact; see the README) so a person can look at what the tests saw."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

OUTPUT = Path(__file__).resolve().parent / "output"
TIMEOUT = 180
PACKAGES = {
    "soffice": "libreoffice-writer libreoffice-calc",
    "pdftotext": "poppler-utils",
    "pdftoppm": "poppler-utils",
    "chromium": "chromium",
    "khal": "khal",
}


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None and os.environ.get("LEERBOT_REAL_PROGRAMS") == "required":
        pytest.fail(f"{program} is missing, and CI requires the real programs (.ci/run)")
    if path is None:
        pytest.skip(
            f"{program} is not installed (Debian: apt-get install --no-install-recommends "
            f"{PACKAGES.get(program, program)})"
        )
    return path


def convert(source: Path, target: str, infilter: str | None = None) -> Path:
    """`soffice --headless --convert-to TARGET` in a throwaway profile; the converted file
    (next to the source, with the new extension)."""
    soffice = need("soffice")
    extension = target.split(":", 1)[0]
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        command = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
        ]
        if infilter:
            command.append(f"--infilter={infilter}")
        command += ["--convert-to", target, "--outdir", str(source.parent), str(source)]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            env={**os.environ, "HOME": profile, "SAL_USE_VCLPLUGIN": "svp"},
        )
    converted = source.with_suffix(f".{extension}")
    assert result.returncode == 0 and converted.is_file(), (
        f"LibreOffice could not convert {source.name} to {target}:\n"
        f"{result.stdout}\n{result.stderr}"
    )
    return converted


def pdf_text(pdf: Path, layout: bool = False) -> str:
    command = [need("pdftotext"), "-enc", "UTF-8"]
    if layout:
        command.append("-layout")
    result = subprocess.run(
        [*command, str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def pdf_pages(pdf: Path) -> int:
    return pdf_text(pdf).count("\f") or 1


def picture(pdf: Path, name: str) -> Path:
    """Page 1 as a PNG at 60 dpi in the output folder: `output/NAME.png`."""
    OUTPUT.mkdir(exist_ok=True)
    stem = OUTPUT / name
    subprocess.run(
        [need("pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, stem],
        capture_output=True,
        timeout=60,
        check=True,
    )
    png = stem.with_suffix(".png")
    assert png.is_file() and png.stat().st_size > 1000
    return png
