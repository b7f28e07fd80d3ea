"""The control page's latency in a real browser, while the generator paints: fader -> store, OSC -> page.

    python -m bench.web [--model builtin] [--repeats 20] [--screenshots DIR]

Runs the show's parts as `vj run` wires them (store, generator thread, OSC server, web server), opens
the page in headless chromium (selenium), then `--repeats` times: moves the temperature fader (an
input event, as a finger sends) and times until the store has the value; sends /vj/temperature over
UDP and times until the page shows it (a MutationObserver on the fader's label). Both clocks are
the machine's wall clock in ms. With `--screenshots DIR` it also writes the page at phone (390 px)
and tablet (820 px) width, the viewport and the whole page. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pythonosc.osc_message_builder import OscMessageBuilder  # noqa: E402

from vj.osc import OscServer  # noqa: E402
from vj.setup import parse_setup  # noqa: E402
from vj.show import build_show  # noqa: E402
from vj.web import WebServer  # noqa: E402

PROMPTS = ["a big red circle on a blue background", "yellow stripes on a purple background",
           "a green ring on a black background", "a small white cross on an orange background"]


def browser(width: int, height: int):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.browser import chrome
    return chrome(width, height)


class Arrivals:
    """Wall-clock ms at which each temperature value reached the store."""

    def __init__(self, store) -> None:
        self.at: dict[float, float] = {}
        store.subscribe(lambda c: c.name == "temperature" and self.at.setdefault(c.value, time.time() * 1000))


def fader_to_store(driver, arrivals: Arrivals, value: float) -> float:
    sent = driver.execute_script("""
        const f = document.querySelector('[data-address="/vj/temperature"]');
        const t = Date.now(); f.value = arguments[0]; f.dispatchEvent(new Event('input')); return t;""", value)
    end = time.monotonic() + 2
    while value not in arrivals.at and time.monotonic() < end:
        time.sleep(0.001)
    return arrivals.at[value] - sent if value in arrivals.at else float("nan")


def osc_to_page(driver, port: int, value: float) -> float:
    driver.execute_script("""
        window.__seen = null;
        const f = document.querySelector('[data-address="/vj/temperature"]');
        const out = f.parentElement.querySelector('output');
        const want = arguments[0];
        const obs = new MutationObserver(() => {
          if (Number(f.value) === want) { window.__seen = Date.now(); obs.disconnect(); } });
        obs.observe(out, {childList: true, characterData: true, subtree: true});""", value)
    msg = OscMessageBuilder("/vj/temperature")
    msg.add_arg(float(value))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        sent = time.time() * 1000
        s.sendto(msg.build().dgram, ("127.0.0.1", port))
    end = time.monotonic() + 2
    while time.monotonic() < end:
        seen = driver.execute_script("return window.__seen")
        if seen:
            return seen - sent
        time.sleep(0.005)
    return float("nan")


def screenshots(url: str, folder: Path) -> list[str]:
    """The page as a phone (390x844 CSS px, touch) and a tablet (820x1180) show it: the screen, and the
    whole page. Device metrics are emulated: a desktop window cannot be narrower than 500 px."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (w, h) in {"phone-390": (390, 844), "tablet-820": (820, 1180)}.items():
        with browser(900, 1200) as driver:
            metrics = {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": True}
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            driver.get(url)
            time.sleep(2.0)                                   # controls built, a preview or two loaded
            driver.save_screenshot(str(folder / f"{name}.png"))
            full = driver.execute_script("return document.documentElement.scrollHeight")
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": full})
            time.sleep(0.5)
            driver.save_screenshot(str(folder / f"{name}-full.png"))
            paths += [str(folder / f"{name}.png"), str(folder / f"{name}-full.png")]
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="builtin")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--screenshots", type=Path, default=None)
    a = ap.parse_args()
    setup = parse_setup({"name": "bench web", "model": {"name": a.model, "fallback": False},
                         "generator": {"width": 320, "height": 180, "scale": 4, "parametrization": "pyramid",
                                       "levels": 4, "start": "smooth"},
                         "prompts": [{"text": t} for t in PROMPTS],
                         "osc": {"listen": "127.0.0.1", "feedback": False},
                         "web": {"port": 0, "advertise": False}}, "<bench>")
    setup.osc.port = 0                                        # any free port
    show = build_show(setup)
    osc = OscServer(show.store, setup.osc)
    web = WebServer.from_setup(setup, show.store, show.bus)
    show.generator.start()
    osc.start()
    web.start()
    try:
        with browser(820, 1180) as driver:
            driver.get(web.url)
            end = time.monotonic() + 20
            while driver.execute_script("return document.getElementById('status').dataset.state") != "open":
                if time.monotonic() > end:
                    raise SystemExit("the page did not connect within 20 s")
                time.sleep(0.05)
            to_store, to_page, arrivals = [], [], Arrivals(show.store)
            for i in range(a.repeats):
                to_store.append(fader_to_store(driver, arrivals, 20.0 + i))
                to_page.append(osc_to_page(driver, osc.port, 60.0 + i))
        shots = []
        if a.screenshots:
            show.store.set("temperature", 20.0, "bench")      # a calm picture for the preview
            time.sleep(10.0)
            shots = screenshots(web.url, a.screenshots)
    finally:
        web.stop()
        osc.stop()
        show.generator.stop()
    print(json.dumps({
        "repeats": a.repeats,
        "fader_to_store_ms": {"median": round(statistics.median(to_store), 1), "max": round(max(to_store), 1)},
        "osc_to_page_ms": {"median": round(statistics.median(to_page), 1), "max": round(max(to_page), 1)},
        "generator_iterations": show.generator.iterations,
        "screenshots": shots,
    }))


if __name__ == "__main__":
    main()
