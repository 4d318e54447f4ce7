"""Headless Chromium, network off: print a report to PDF, take a screenshot, dump the DOM.

Used by the tests (the report must print and its charts must render in a real
browser) and by ``write_examples`` (the first-page picture in
``reports/examples/``).  Chromium is optional: ``find_chromium()`` returns None
when it is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

#: A4 at 96 dpi, the size of one printed page on screen.
A4_WINDOW = (794, 1123)

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--proxy-server=127.0.0.1:9",  # nothing listens there: any network request fails
    "--proxy-bypass-list=<-loopback>",
)


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary ($CHROMIUM, /usr/bin/chromium, or on PATH), or None."""
    for candidate in (
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _run(chromium: str, args: list[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    with tempfile.TemporaryDirectory(prefix="wfhaudit-chromium-") as profile:
        cmd = [chromium, *_FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)


def _tail(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stderr.decode(errors="replace")[-500:]


def print_pdf(chromium: str, html: Path, pdf: Path, timeout: float = 120) -> None:
    """Print ``html`` to ``pdf`` (A4 from the report's @page rule)."""
    done = _run(
        chromium,
        ["--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.resolve().as_uri()],
        timeout,
    )
    if not pdf.is_file():
        raise RuntimeError(f"chromium printed no PDF: {_tail(done)}")


def screenshot(
    chromium: str, html: Path, png: Path, size: tuple[int, int] = A4_WINDOW, timeout: float = 120
) -> None:
    """A PNG of the first screen of ``html`` at ``size`` (default: one A4 page)."""
    done = _run(
        chromium,
        [f"--window-size={size[0]},{size[1]}", f"--screenshot={png}", html.resolve().as_uri()],
        timeout,
    )
    if not png.is_file():
        raise RuntimeError(f"chromium took no screenshot: {_tail(done)}")


def dump_dom(chromium: str, html: Path, timeout: float = 120) -> str:
    """The DOM after loading ``html``, serialised."""
    done = _run(chromium, ["--dump-dom", html.resolve().as_uri()], timeout)
    return done.stdout.decode("utf-8", errors="replace")
