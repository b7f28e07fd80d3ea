"""A real browser for page tests: Debian's chromium, headless, driven by selenium through Debian's
chromedriver (no download: selenium's driver manager is never asked).

Use `chrome()` once per test module (a fixture with scope="module"): a browser start costs seconds
on a busy 2-core machine. Tests skip with a reason only when chromium or chromedriver is absent
(scripts/bootstrap installs both).
"""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from typing import Iterator

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)


def find(names: tuple[str, ...]) -> str | None:
    return next((p for p in map(shutil.which, names) if p), None)


@contextmanager
def chrome(width: int = 820, height: int = 1180) -> Iterator["object"]:
    """A headless chromium (selenium WebDriver) with a `width` x `height` CSS-pixel window."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = find(BROWSERS), find(DRIVERS)
    if binary is None or driver_path is None:
        pytest.skip("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver, "
                    "or run scripts/bootstrap)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--disable-extensions", "--no-first-run", "--hide-scrollbars", f"--window-size={width},{height}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()
