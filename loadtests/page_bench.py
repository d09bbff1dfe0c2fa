"""The board page under a storm of events: is it still responsive, and right afterwards?

    python -m loadtests.page_bench [--seconds 10] [--batch 100]

Its own redis-server and `leaderboard serve`, a `set` board of 3 regions whose 300
contenders get new random scores in batches of --batch, back to back, so that nearly every
update moves someone inside a top 100 (the top-N events written per second, regional and
global together, are read back from /metrics), while the
board page is open in Debian's headless Chromium (selenium, /usr/bin/chromedriver). It
prints the events written per second, the page's frames per second and its longest gap
between two frames, how long a tab switch takes to show, and how long after the writes
stop the page equals GET /top. Nothing else is touched.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import time
from pathlib import Path

import aiohttp
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from loadtests.quick import JSON, Server, session
from tests.redis_process import RedisProcess

BOARD = "busy"
CONTENDERS = 300
FRAMES = """window.__gaps = []; let last = performance.now();
(function tick(now) {
  window.__gaps.push(now - last); last = now; requestAnimationFrame(tick);
})(last);"""
TABLE = """return [...document.querySelectorAll('#top tbody tr')].map((tr) =>
  [...tr.cells].slice(0, 3).map((td) => td.textContent).join(' '))"""


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--window-size=1200,2400"):
        options.add_argument(flag)
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))


async def events_written(http: aiohttp.ClientSession, base: str) -> float:
    async with http.get(base + "/metrics") as resp:
        for line in (await resp.text()).splitlines():
            if line.startswith("leaderboard_events_total "):
                return float(line.split()[1])
    return 0.0


async def storm(http: aiohttp.ClientSession, base: str, seconds: float, per_batch: int) -> int:
    """Batches of new top scores for random contenders, back to back."""
    rng, posted, deadline = random.Random(3), 0, time.monotonic() + seconds
    url = f"{base}/v1/boards/{BOARD}/scores/batch"
    while time.monotonic() < deadline:
        updates = [
            {"player_id": f"c{i}", "region": ("na", "eu", "apac")[i % 3],
             "score": rng.randrange(1_000_000)}
            for i in rng.sample(range(CONTENDERS), per_batch)
        ]  # fmt: skip
        async with http.post(url, json={"updates": updates}, headers=JSON) as resp:
            assert resp.status == 200, await resp.text()
        posted += per_batch
        await asyncio.sleep(0)
    return posted


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="lb-page-") as tmp:
        redis = RedisProcess(Path(tmp) / "redis").start()
        server = Server(redis.url, 1, Path(tmp) / "server.log").start()
        chrome = None
        try:
            async with session(8) as http:
                for _ in range(100):
                    try:
                        config = {"regions": ["na", "eu", "apac"], "mode": "set"}
                        async with http.put(f"{server.base}/v1/boards/{BOARD}", json=config):
                            break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.1)
                await storm(http, server.base, 0.5, CONTENDERS)
                chrome = browser()
                chrome.get(f"{server.base}/boards/{BOARD}")
                await asyncio.sleep(2)
                chrome.execute_script(FRAMES)
                before, started = await events_written(http, server.base), time.monotonic()
                posted = await storm(http, server.base, args.seconds, args.batch)
                spent = time.monotonic() - started
                rate = (await events_written(http, server.base) - before) / spent
                gaps = chrome.execute_script("return window.__gaps")
                t0 = time.monotonic()
                chrome.find_element("id", "tab-eu").click()
                chrome.execute_script("return document.getElementById('tab-eu').ariaSelected")
                switch = time.monotonic() - t0
                chrome.find_element("id", "tab-global").click()
                t0 = time.monotonic()
                async with http.get(f"{server.base}/v1/boards/{BOARD}/top?limit=100") as resp:
                    top = await resp.json()
                want = [f"{e['rank']} {e['player_id']} {e['score']}" for e in top["entries"]]
                while chrome.execute_script(TABLE) != want and time.monotonic() - t0 < 30:
                    await asyncio.sleep(0.05)
                settled = time.monotonic() - t0
                right = chrome.execute_script(TABLE) == want
        finally:
            if chrome is not None:
                chrome.quit()
            server.stop()
            redis.stop()
    print(f"updates posted: {posted / spent:,.0f}/s in batches of {args.batch}")
    print(f"top-N events written: {rate:,.0f}/s (regional and global, from /metrics)")
    print(
        f"page: {len(gaps) / spent:.0f} frames/s, longest gap between frames "
        f"{max(gaps):.0f} ms, p99 {sorted(gaps)[int(0.99 * len(gaps))]:.0f} ms"
    )
    print(f"tab switch answered by the page in {1000 * switch:.0f} ms (selenium round trips in)")
    print(f"after the storm: the page equals GET /top {'after' if right else 'NOT within'} "
          f"{settled:.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="The board page under a storm of events.")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=100, help="updates per batch (100)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
