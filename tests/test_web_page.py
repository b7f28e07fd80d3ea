"""The control page in a real browser (headless chromium via selenium): faders reach the store, changes
made over OSC reach the page, typed prompts reach the generator, the preview follows the frames, and
prompt text is shown as text. One browser for the module: starting one costs seconds."""
from __future__ import annotations

import socket

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from engine import FrameBus, Generator, GeneratorConfig, load_guide
from tests.browser import chrome
from tests.conftest import TINY_MODEL
from tests.osc_tools import start_server, wait_for
from vj.setup import parse_setup
from vj.tables import app_store
from vj.web import WebServer


class Page:
    """The parts a test drives: the store, a generator stepped by hand, OSC, the server, the browser."""

    def __init__(self, store, generator, osc, web, driver) -> None:
        self.store, self.generator, self.osc, self.web, self.driver = store, generator, osc, web, driver

    def control(self, address: str):
        return self.driver.find_element(By.CSS_SELECTOR, f'[data-address="{address}"]')

    def send_osc(self, address: str, value) -> None:
        msg = OscMessageBuilder(address)
        msg.add_arg(value)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(msg.build().dgram, ("127.0.0.1", self.osc.port))

    def preview_rgb(self):
        """The preview image's mean colour as the browser decoded it, or None before it loaded."""
        return self.driver.execute_script("""
            const img = document.getElementById('preview');
            if (!img.complete || !img.naturalWidth) return null;
            const c = document.createElement('canvas'); c.width = c.height = 4;
            const g = c.getContext('2d'); g.drawImage(img, 0, 0, 4, 4);
            const d = g.getImageData(0, 0, 4, 4).data; const m = [0, 0, 0];
            for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) m[k] += d[i + k] / 16;
            return m;""")


@pytest.fixture(scope="module")
def page():
    store = app_store()
    store.set("prompt.1", "a red circle")
    store.set("prompt.2", "a blue square")
    for name, value in (("iterations", 2), ("first_iterations", 2), ("views", 2)):
        store.set(name, value)
    bus = FrameBus()
    generator = Generator(store, [load_guide(TINY_MODEL)], bus, GeneratorConfig(64, 48, 1, 1))
    osc = start_server(store, feedback=False)
    # With an access token, as a performer guarding the page would: every request of the page (its own
    # script and styles, the layout, the preview, the WebSocket) must carry it for the page to work.
    setup = parse_setup({"web": {"port": 0, "advertise": False, "preview_fps": 10, "token": "s3cret &x"}}, "<test>")
    web = WebServer.from_setup(setup, store, bus)
    web.start()
    try:
        with chrome(820, 1180) as driver:
            driver.get(web.url)
            assert wait_for(lambda: driver.execute_script(
                "return document.getElementById('status').dataset.state") == "open", timeout=20)
            yield Page(store, generator, osc, web, driver)
    finally:
        web.stop()
        osc.stop()


def test_moving_the_temperature_fader_changes_the_store(page):
    fader = page.control("/vj/temperature")
    width = fader.size["width"]
    ActionChains(page.driver).move_to_element_with_offset(fader, int(width * 0.3), 0).click().perform()
    assert wait_for(lambda: page.store.base("temperature") != 30.0, timeout=2)
    assert page.store.base("temperature") == pytest.approx(80.0, abs=6)     # 80% of 0..100


def test_temperature_set_over_osc_shows_on_the_page(page):
    page.send_osc("/vj/temperature", 42.5)
    fader = page.control("/vj/temperature")
    assert wait_for(lambda: fader.get_attribute("value") == "42.5", timeout=2)
    label = fader.find_element(By.XPATH, "preceding-sibling::output")
    assert label.text == "42.5"


def test_a_typed_prompt_is_used_at_the_generators_next_iteration(page):
    page.generator.step()
    seen = []
    guide = page.generator.opt.guides[0]
    original = guide.text_features
    guide.text_features = lambda texts: seen.append(list(texts)) or original(texts)
    try:
        field = page.control("/vj/prompt/1")
        field.clear()
        field.send_keys("a green ring" + Keys.ENTER)
        assert wait_for(lambda: page.store.base("prompt.1") == "a green ring", timeout=2)
        page.generator.step()
    finally:
        guide.text_features = original
    assert seen[0] == ["a green ring"]


def test_slot_buttons_select_and_show_the_active_slot(page):
    buttons = page.driver.find_elements(By.CSS_SELECTOR, ".slot button")
    assert len(buttons) == 8
    buttons[1].click()
    assert wait_for(lambda: page.store.base("prompt.select") == 2, timeout=2)
    assert wait_for(lambda: buttons[1].get_attribute("aria-pressed") == "true", timeout=2)
    page.send_osc("/vj/prompt/select", 1)                                    # and back from elsewhere
    assert wait_for(lambda: buttons[0].get_attribute("aria-pressed") == "true", timeout=2)
    assert buttons[1].get_attribute("aria-pressed") == "false"


def test_blackout_button_toggles_and_follows(page):
    button = page.control("/vj/blackout")
    button.click()
    assert wait_for(lambda: page.store.base("blackout") is True, timeout=2)
    assert wait_for(lambda: button.get_attribute("aria-pressed") == "true", timeout=2)
    page.store.set("blackout", False, "key")                                 # the B key
    assert wait_for(lambda: button.get_attribute("aria-pressed") == "false", timeout=2)


def test_the_preview_follows_the_generators_frames(page):
    import numpy as np
    from engine.bus import Frame

    for rgb in ((250, 20, 20), (20, 20, 250)):
        pixels = np.zeros((48, 64, 3), np.uint8)
        pixels[:] = rgb
        page.generator.bus.publish(Frame(0, 1, True, 0.0, pixels))
        channel = int(np.argmax(rgb))
        assert wait_for(lambda: (m := page.preview_rgb()) is not None and m[channel] > 200, timeout=3), rgb
    while (frame := page.generator.step()) is None or not frame.final:     # a real painted frame
        pass
    painted = frame.pixels.reshape(-1, 3).mean(0)
    assert wait_for(lambda: (m := page.preview_rgb()) is not None
                    and max(abs(a - b) for a, b in zip(m, painted)) < 30, timeout=3), (page.preview_rgb(), painted)


def test_a_prompt_with_script_is_shown_as_text(page):
    evil = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    page.send_osc("/vj/prompt/3", evil)
    field = page.control("/vj/prompt/3")
    assert wait_for(lambda: field.get_attribute("value") == evil, timeout=2)
    page.driver.refresh()                                                    # and when the page loads it
    assert wait_for(lambda: page.driver.execute_script(
        "const f = document.querySelector('[data-address=\"/vj/prompt/3\"]'); return f && f.value") == evil,
        timeout=10)
    assert page.driver.execute_script("return window.pwned") is None
    assert page.driver.find_elements(By.CSS_SELECTOR, "main script, main img") == []
