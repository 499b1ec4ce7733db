"""The portal in headless Chromium (Debian's chromium + chromium-driver) against the API on the real local
stack. Screenshots of each page go to <basetemp>/screenshots.

Selenium's calls block, so each browser step runs in a thread while this event loop serves the API and
the workers.
"""

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from antifragile_cli.demo import DEMO_DOCS
from antifragile_core.storage import open_store
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import Api, process

# Debian's packages (.ci/run installs them); CI runners name their own browser and driver.
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
WAIT_SECONDS = 60
DROP_FILES = """
const [zone, files] = arguments, data = new DataTransfer();
for (const [name, text] of Object.entries(files)) data.items.add(new File([text], name));
zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
"""
"""Drop files on the drop zone as a user's drag and drop does: a drop event carrying a DataTransfer."""


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "install Debian's chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


def _until(
    driver: WebDriver, css: str, check: Callable[[Any], bool] = bool, seconds: float = WAIT_SECONDS
) -> Any:
    """The element at `css` once it exists and passes `check` (htmx swaps replace elements: retry)."""

    def found(d: WebDriver) -> Any:
        try:
            element = d.find_element(By.CSS_SELECTOR, css)
            return element if check(element) else False
        except (StaleElementReferenceException, Exception):
            return False

    wait = WebDriverWait(driver, seconds, poll_frequency=0.2)
    return wait.until(found, f"waiting for {css} on {driver.current_url}: {driver.page_source[:2000]}")


def _click(driver: WebDriver, css: str) -> None:
    WebDriverWait(driver, WAIT_SECONDS).until(lambda d: _try_click(d, css), f"clicking {css}")


def _try_click(driver: WebDriver, css: str) -> bool:
    try:
        driver.find_element(By.CSS_SELECTOR, css).click()
        return True
    except Exception:
        return False


def _sign_in(driver: WebDriver, url: str, key: str, shot: Path | None = None) -> None:
    driver.get(url + "/")
    driver.delete_all_cookies()  # cookies ignore ports: drop an earlier test's sign-in
    driver.get(url + "/")
    if shot is not None:
        driver.save_screenshot(str(shot))
    driver.find_element(By.ID, "key").send_keys(key)
    driver.find_element(By.ID, "sign-in").click()
    _until(driver, "#dropzone")


async def test_drop_two_files_and_see_them_processed(api: Api, browser: WebDriver, screenshots: Path) -> None:
    org = f"org-{uuid.uuid4().hex[:8]}"
    key = await api.key(org, "member")
    files = {
        "plan.md": "# Cold-chain plan\n\nThree refrigerated depots in the Baltic states by 2027.\n",
        "swot.txt": "SWOT\n\nStrength: reliable fleet. Threat: a shortage of certified drivers.\n",
    }

    def upload() -> None:
        _sign_in(browser, api.url, key, screenshots / "01-sign-in.png")
        browser.execute_script(DROP_FILES, browser.find_element(By.ID, "dropzone"), files)
        _until(browser, "#batch-status", lambda e: e.get_attribute("data-status") == "completed")
        bars = browser.find_elements(By.CSS_SELECTOR, "#uploads .file")
        assert [b.find_element(By.CSS_SELECTOR, ".state").text for b in bars] == ["uploaded", "uploaded"]
        outcomes = browser.find_elements(By.CSS_SELECTOR, ".outcome")
        assert [o.get_attribute("data-status") for o in outcomes] == ["done", "done"], browser.page_source
        browser.save_screenshot(str(screenshots / "02-documents-uploaded.png"))
        browser.get(api.url + "/portal/documents")
        rows = browser.find_elements(By.CSS_SELECTOR, "#documents a")
        assert sorted(r.text for r in rows) == ["plan.md", "swot.txt"]
        rows[0].click()
        summary = _until(browser, "#summary")
        assert "No summary" not in summary.text
        browser.save_screenshot(str(screenshots / "03-document-summary-analysis.png"))

    await asyncio.to_thread(upload)


async def test_two_people_agree_a_catchball_each_from_their_own_link(
    api: Api, browser: WebDriver, screenshots: Path
) -> None:
    org = f"org-{uuid.uuid4().hex[:8]}"
    async with api.http(await api.key(org)) as admin:
        people = [{"name": "Ana", "level": "ceo"}, {"name": "Bo", "level": "vp-sales"}]
        started = await admin.post(
            "/v1/catchball",
            json={"statement": "We grow cold-chain revenue 20% by 2028.", "participants": people},
        )
        ana, bo = (link["url"] for link in started.json()["links"])

    def answer(link: str, button: str, feedback: str | None = None) -> None:
        browser.get(link)
        _until(browser, "#your-turn")
        if feedback:
            browser.find_element(By.ID, "feedback").send_keys(feedback)
        _click(browser, f"#{button}")
        _until(browser, "#message", lambda e: "taken" in e.text)

    def session() -> None:
        answer(ana, "send-feedback", "Say which markets: the Baltic states first.")
        browser.save_screenshot(str(screenshots / "04-catchball-ana-gave-feedback.png"))
        answer(bo, "agree")  # round 1 ends: not everyone agreed
        answer(ana, "agree")
        answer(bo, "agree")
        _until(browser, "#outcome", lambda e: "agreed" in e.text)
        history = browser.find_elements(By.CSS_SELECTOR, ".turn")
        assert len(history) == 4 and not browser.find_elements(By.CSS_SELECTOR, ".ai")
        browser.save_screenshot(str(screenshots / "05-catchball-agreed.png"))

    await asyncio.to_thread(session)


async def test_a_wisdom_round_reaches_quorum_and_shows_the_synthesis_with_attributions(
    api: Api, browser: WebDriver, screenshots: Path
) -> None:
    org = f"org-{uuid.uuid4().hex[:8]}"
    async with api.http(await api.key(org)) as admin:
        started = await admin.post(
            "/v1/wisdom",
            json={
                "question": "Where should we expand next?",
                "participants": ["Ana", "Bo", "Cy"],
                "quorum": 2,
            },
        )
        ana, bo, cy = (link["url"] for link in started.json()["links"])

    def contribute(link: str, text: str) -> None:
        browser.get(link)
        browser.find_element(By.ID, "answer").send_keys(text)
        _click(browser, "#contribute")
        _until(browser, "#message", lambda e: "recorded" in e.text)

    def round_() -> None:
        contribute(ana, "The Baltic states: short routes and demand for cold chain.")
        browser.save_screenshot(str(screenshots / "06-wisdom-contributed.png"))
        contribute(bo, "Poland first: the larger market, then the Baltics.")
        browser.get(cy)
        synthesis = _until(browser, "#synthesis")
        assert "Ana" in synthesis.text or "Bo" in synthesis.text, "attributions name the authors"
        browser.save_screenshot(str(screenshots / "07-wisdom-synthesis.png"))

    await asyncio.to_thread(round_)


async def test_the_training_job_page_follows_a_real_training_run_to_its_evaluation(
    api: Api, browser: WebDriver, screenshots: Path
) -> None:
    ml = pytest.importorskip("antifragile_worker_ml.main", reason="worker-ml (torch) is not installed here")
    org = f"org-{uuid.uuid4().hex[:8]}"
    key = await api.key(org)
    async with api.http(key) as admin:
        await process(admin, [(f.name, f.read_bytes()) for f in sorted(DEMO_DOCS.iterdir())])
        smoke = {
            "max_steps": 300,  # long enough (~15 s) for the page to see the run in progress
            "checkpoint_every": 100,
            "batch_size": 8,
            "seq_len": 128,
            "learning_rate": 3e-3,
        }
        body = {"request_id": "first", "base_model": "smoke", "hyperparameters": smoke}
        job = await admin.post("/v1/training/jobs", json=body)
        assert job.status_code == 202, job.text
        job_id = job.json()["job_id"]

    def page() -> None:
        _sign_in(browser, api.url, key)
        browser.get(f"{api.url}/portal/training/{job_id}")
        _until(browser, "#progress", lambda e: int(e.get_attribute("value") or 0) > 0, seconds=120)
        browser.save_screenshot(str(screenshots / "08-training-progress.png"))
        _until(browser, "#job", lambda e: e.get_attribute("data-status") == "succeeded", seconds=300)
        assert "perplexity" in _until(browser, "#evaluation").text
        browser.save_screenshot(str(screenshots / "09-training-evaluation.png"))

    async with open_store(api.settings) as store:
        with ThreadPoolExecutor(max_workers=1) as executor:
            async with ml.create_worker(api.client, api.settings, store, executor):
                await asyncio.to_thread(page)
