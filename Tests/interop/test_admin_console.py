"""The admin console in a real browser (Debian's chromium, headless, driven by Selenium through
chromium-driver): sign-in, usage charts whose totals match a seeded ledger, the call list, and a
key created in the page that works for a call and stops working once revoked in the page."""
import os
import sqlite3
import subprocess
import tempfile
import time
import uuid

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PEPPER, SECRET, Process, binary

ADMIN_SECRET = "console-admin-secret-0123456789abcdef0123"
# (day, hour, org, model, prompt, completion, cost)
SEEDED = [
    ("2026-11-15", 9, "org-a", "gpt-4o-mini", 60, 40, 0.001),
    ("2026-11-15", 9, "org-b", "gpt-4o-mini", 30, 20, 0.0005),
    ("2026-11-15", 14, "org-a", "claude-sonnet-4-5", 150, 50, 0.004),
    ("2026-11-20", 10, "org-b", "claude-sonnet-4-5", 300, 100, 0.006),
]


def seed(ledger):
    database = sqlite3.connect(ledger, timeout=10)
    for day, hour, org, model, prompt, completion, cost in SEEDED:
        at = int(time.mktime(time.strptime(f"{day} {hour:02d}:30", "%Y-%m-%d %H:%M")) - time.timezone) * 1000
        database.execute(
            "INSERT INTO usage_records (id, request_id, org_id, user_id, client_type, provider, channel, invoke_type, "
            "model, prompt_tokens, completion_tokens, total_tokens, cached_tokens, reasoning_tokens, image_count, cost, "
            "currency, latency_ms, stream, success, metadata, created_at) "
            "VALUES (?, ?, ?, 'u1', 'seed', ?, 'normal', 'chat-completions', ?, ?, ?, ?, 0, 0, 0, ?, 'USD', 5, 0, 1, '{}', ?)",
            (str(uuid.uuid4()), str(uuid.uuid4()), org, "openai" if model.startswith("gpt") else "anthropic", model,
             prompt, completion, prompt + completion, cost, at))
    database.commit()
    database.close()


@pytest.fixture(scope="module")
def console():
    ledger = os.path.join(tempfile.mkdtemp(prefix="mm-console-"), "ledger.sqlite")
    env = {"MODEL_MANAGER_SERVER_JWT_SECRET_KEY": SECRET, "MODEL_MANAGER_SERVER_ADMIN_JWT_SECRET_KEY": ADMIN_SECRET,
           "MODEL_MANAGER_API_KEY_PEPPER": PEPPER, "MODEL_MANAGER_SQLITE_PATH": ledger}
    process = Process(["serve", "--demo", "--grpc-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0"], env=env)
    listening = process.wait_for_log("model-manager listening")
    process.wait_for_log("demo mode")
    seed(ledger)

    class Console:
        url = f"http://127.0.0.1:{listening['http_port']}"
        admin_token = subprocess.run([binary(), "token", "--admin", "--secret", ADMIN_SECRET, "--user-id", "ops"],
                                     capture_output=True, text=True, check=True).stdout.strip()

    yield Console
    assert process.stop() == 0


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")),
                              options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def wait(driver, condition, timeout=15):
    # The page redraws its tables as answers arrive: an element read mid-redraw is read again.
    return WebDriverWait(driver, timeout, poll_frequency=0.1,
                         ignored_exceptions=(StaleElementReferenceException,)).until(lambda _: condition())


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def sign_in(driver, console, key):
    # Forget an earlier sign-in on a page without the console's script, so none can race it.
    driver.get(console.url + "/healthz")
    driver.execute_script("sessionStorage.clear()")
    driver.get(console.url + "/admin")
    field = driver.find_element(By.ID, "admin-key")
    field.clear()
    field.send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "#login-form button").click()


def show_usage(driver, granularity, date):
    driver.execute_script("document.getElementById('granularity').value = arguments[0];"
                          "document.getElementById('anchor-date').value = arguments[1];", granularity, date)
    driver.find_element(By.CSS_SELECTOR, "#usage-form button").click()


def test_a_wrong_key_is_refused_in_the_page(browser, console):
    sign_in(browser, console, "mmk_nope_notakey")
    wait(browser, lambda: text(browser, "login-error") != "")
    assert browser.find_element(By.ID, "tabs").get_attribute("hidden") is not None


def test_usage_charts_match_the_seeded_ledger(browser, console):
    sign_in(browser, console, console.admin_token)
    wait(browser, lambda: browser.find_element(By.ID, "usage").is_displayed())

    show_usage(browser, "day", "2026-11-15")
    wait(browser, lambda: text(browser, "total-tokens") == "350")
    chart = browser.find_element(By.ID, "usage-chart")
    assert chart.get_attribute("data-total") == "350"
    bars = chart.find_elements(By.CSS_SELECTOR, "rect.bar")
    assert len(bars) == 24
    assert {bar.get_attribute("data-bucket")[11:13]: int(bar.get_attribute("data-value"))
            for bar in bars if bar.get_attribute("data-value") != "0"} == {"09": 150, "14": 200}
    assert text(browser, "total-calls") == "3"
    by_model = {row.find_elements(By.TAG_NAME, "td")[0].text: row.find_elements(By.TAG_NAME, "td")[2].text
                for row in browser.find_elements(By.CSS_SELECTOR, "#by-model tbody tr")}
    assert by_model == {"gpt-4o-mini": "150", "claude-sonnet-4-5": "200"}

    show_usage(browser, "month", "2026-11-15")
    wait(browser, lambda: text(browser, "total-tokens") == "750")
    assert browser.find_element(By.ID, "usage-chart").get_attribute("data-total") == "750"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#usage-chart rect.bar")) == 30
    by_org = {row.find_elements(By.TAG_NAME, "td")[0].text: row.find_elements(By.TAG_NAME, "td")[2].text
              for row in browser.find_elements(By.CSS_SELECTOR, "#by-org tbody tr")}
    assert by_org == {"org-a": "300", "org-b": "450"}

    show_usage(browser, "year", "2026-11-15")
    wait(browser, lambda: browser.find_element(By.ID, "usage-chart").get_attribute("data-total") == "750")
    assert browser.find_element(By.ID, "usage-chart").get_attribute("data-buckets") == "1"

    browser.find_element(By.CSS_SELECTOR, "#tabs button[data-tab=calls]").click()
    browser.find_element(By.ID, "calls-org").send_keys("org-b")
    browser.find_element(By.CSS_SELECTOR, "#calls-form button").click()
    wait(browser, lambda: "2 calls" in text(browser, "calls-page"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#calls-table tbody tr")) == 2


def test_a_key_created_in_the_page_works_until_revoked_in_the_page(browser, console):
    sign_in(browser, console, console.admin_token)
    wait(browser, lambda: browser.find_element(By.ID, "tabs").is_displayed())
    browser.find_element(By.CSS_SELECTOR, "#tabs button[data-tab=keys]").click()
    browser.find_element(By.ID, "key-org").send_keys("org-console")
    browser.find_element(By.ID, "key-name").send_keys("from-the-browser")
    browser.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
    wait(browser, lambda: text(browser, "new-key").startswith("mmk_"))
    key = text(browser, "new-key")

    def chat():
        return requests.post(console.url + "/v1/chat/completions", timeout=30,
                             headers={"Authorization": f"Bearer {key}"},
                             json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]})

    answer = chat()
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "Echo: hello"

    row = wait(browser, lambda: [r for r in browser.find_elements(By.CSS_SELECTOR, "#keys-table tbody tr")
                                 if "from-the-browser" in r.text])[0]
    row.find_element(By.CSS_SELECTOR, "button.revoke").click()
    browser.switch_to.alert.accept()
    wait(browser, lambda: any("revoked" in r.text and "from-the-browser" in r.text
                              for r in browser.find_elements(By.CSS_SELECTOR, "#keys-table tbody tr")))
    # A verified key is remembered for at most a second (auth.api_key_cache_seconds).
    deadline = time.time() + 5
    while chat().status_code == 200 and time.time() < deadline:
        time.sleep(0.2)
    refused = chat()
    assert refused.status_code == 401, refused.text

    browser.find_element(By.CSS_SELECTOR, "#tabs button[data-tab=audit]").click()
    wait(browser, lambda: "key.revoked" in text(browser, "audit-table") and "key.created" in text(browser, "audit-table"))

    browser.find_element(By.CSS_SELECTOR, "#tabs button[data-tab=quotas]").click()
    browser.find_element(By.ID, "quota-org").send_keys("org-console")
    browser.find_element(By.ID, "quota-limit").send_keys("1000")
    browser.find_element(By.CSS_SELECTOR, "#quota-form button").click()
    wait(browser, lambda: "org org-console" in text(browser, "quotas-table"))
