"""The board page (contract v1.2) in a real browser: Debian's headless Chromium, driven by
selenium through Debian's chromedriver (no browser download), against the service on a
real Redis."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait

from leaderboard.settings import Settings
from tests.live_server import LiveServer
from tests.redis_process import RedisProcess

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
REGIONS = ("na", "eu", "apac")
CLIENT_KEY = "page-client-key-0123456789"


def browser_binaries() -> tuple[str, str]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    assert Path(chromium).exists() and Path(driver).exists(), (
        "install Debian's chromium and chromium-driver (.ci/run does)"
    )
    return chromium, driver


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    chromium, driver = browser_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,2400"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


def settings_for(redis: RedisProcess, **extra: Any) -> Settings:
    return Settings(redis_url=redis.url, activity_buckets=64, data_dir=Path("/x"), **extra)


@pytest.fixture
def live(redis: RedisProcess) -> Iterator[LiveServer]:
    with LiveServer(settings_for(redis)) as server:
        yield server


def wait(browser: webdriver.Chrome, check: Callable[[], Any], seconds: float = 5.0) -> Any:
    return WebDriverWait(browser, seconds, poll_frequency=0.05).until(lambda _: check())


def table(browser: webdriver.Chrome, css: str = "#top tbody tr") -> list[tuple[str, ...]]:
    """Read in one step: the page redraws its rows whole, at most once a frame."""
    script = (
        "return [...document.querySelectorAll(arguments[0])].map((tr) => "
        "[...tr.cells].slice(0, 4).map((td) => td.textContent))"
    )
    return [tuple(row) for row in browser.execute_script(script, css)]


def expected(live: LiveServer, scope: str = "global") -> list[tuple[str, ...]]:
    status, page = live.call("GET", f"/v1/boards/default/top?limit=100&scope={scope}")
    assert status == 200
    return [
        (str(e["rank"]), e.get("name", e["player_id"]), str(e["score"]), e["region"])
        for e in page["entries"]
    ]


def players(live: LiveServer, count: int) -> None:
    updates = [
        {
            "player_id": f"p{i:03d}",
            "region": REGIONS[i % 3],
            "score": (i * 37) % 500,
            **({"name": f"Player {i}"} if i % 2 else {"metadata": {"car": f"Mk {i % 4}"}}),
        }
        for i in range(count)
    ]
    assert live.call("POST", "/v1/boards/default/scores/batch", {"updates": updates})[0] == 200


def post(live: LiveServer, pid: str, region: str, score: int) -> None:
    body = {"player_id": pid, "region": region, "score": score}
    assert live.call("POST", "/v1/boards/default/scores", body)[0] == 200


def no_console_errors(browser: webdriver.Chrome) -> None:
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_the_page_shows_the_board_live(browser: webdriver.Chrome, live: LiveServer) -> None:
    players(live, 120)
    browser.get(f"http://127.0.0.1:{live.port}/boards/default")
    wait(browser, lambda: table(browser) == expected(live))
    assert browser.find_element(By.ID, "title").text == "default"
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "board-page.png"))

    # Scores posted now show in their place without a reload, within a second.
    post(live, "newcomer", "eu", 10_000)
    post(live, "p001", "na", 250)
    started = time.monotonic()
    wait(browser, lambda: table(browser) == expected(live), seconds=1.0)
    assert time.monotonic() - started < 1.0
    assert table(browser)[0][1] == "newcomer"

    # A region's tab shows that region, by click and by arrow keys.
    browser.find_element(By.ID, "tab-eu").click()
    wait(browser, lambda: table(browser) == expected(live, "eu"))
    browser.find_element(By.ID, "tab-eu").send_keys(Keys.ARROW_RIGHT)
    wait(browser, lambda: table(browser) == expected(live, "apac"))
    selected = browser.find_element(By.CSS_SELECTOR, '[role="tab"][aria-selected="true"]')
    assert selected.text == "apac"
    assert browser.switch_to.active_element == selected

    # The search box shows the player's ranks, as GET /players/{id} does, and its window.
    status, me = live.call("GET", "/v1/boards/default/players/p042")
    assert status == 200
    field = browser.find_element(By.ID, "player")
    field.send_keys("p042", Keys.ENTER)
    ranks = wait(browser, lambda: browser.find_element(By.ID, "ranks").text)
    assert f"global rank {me['rank']['global']} of {me['total']['global']}" in ranks
    assert f"rank {me['rank']['region']} of {me['total']['region']} in {me['region']}" in ranks
    _, around = live.call("GET", "/v1/boards/default/players/p042/around?radius=3")
    window = [row[:3] for row in table(browser, "#around tbody tr")]
    assert window == [
        (str(e["rank"]), e.get("name", e["player_id"]), str(e["score"])) for e in around["entries"]
    ]

    # A reset empties the table at once (its reset event); the new period fills it again.
    assert live.call("POST", "/v1/boards/default/reset")[0] == 200
    wait(browser, lambda: table(browser) == [] == expected(live, "apac"))
    post(live, "first", "apac", 1)
    wait(browser, lambda: table(browser) == expected(live, "apac") != [])
    no_console_errors(browser)


def test_the_page_comes_back_after_the_server_restarts(
    browser: webdriver.Chrome, redis: RedisProcess
) -> None:
    first = LiveServer(settings_for(redis))
    with first:
        players(first, 10)
        browser.get(f"http://127.0.0.1:{first.port}/boards/default")
        wait(browser, lambda: table(browser) == expected(first))
    again = LiveServer(settings_for(redis))
    again.port = first.port
    with again:
        post(again, "after-restart", "na", 9_999)
        wait(browser, lambda: table(browser) == expected(again), seconds=15.0)
        assert table(browser)[0][1] == "after-restart"
        assert browser.find_element(By.ID, "status").text == "live"


def test_the_page_asks_for_a_client_key_once(
    browser: webdriver.Chrome, redis: RedisProcess
) -> None:
    with LiveServer(settings_for(redis, client_keys=(CLIENT_KEY,))) as server:
        browser.get(f"http://127.0.0.1:{server.port}/boards/default")
        form = wait(browser, lambda: browser.find_element(By.ID, "key-form").is_displayed())
        assert form
        browser.find_element(By.ID, "key").send_keys(CLIENT_KEY, Keys.ENTER)
        wait(browser, lambda: browser.find_element(By.ID, "status").text == "live")
        assert not browser.find_element(By.ID, "key-form").is_displayed()
        browser.refresh()  # the key is kept for the browser session
        wait(browser, lambda: browser.find_element(By.ID, "status").text == "live")
        assert not browser.find_element(By.ID, "key-form").is_displayed()
