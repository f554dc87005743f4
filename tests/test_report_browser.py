"""The HTML report in a real browser: headless Chromium (Debian's chromium and chromium-driver)
driven by Selenium loads the page from disk with the network off, finds the charts and the
letter views, sorts a table, opens a count's letters and follows one to its evidence view,
and saves a screenshot (build/test-artifacts/, or $IMR_NLP_ARTIFACTS).

Skipped when Chromium, ChromeDriver or Selenium is missing, unless IMR_NLP_REQUIRE_BROWSER=1
(as in CI, whose .ci/run installs them), where a missing browser fails the run."""

import os
import shutil
from pathlib import Path

import pytest

REQUIRED = os.environ.get("IMR_NLP_REQUIRE_BROWSER") == "1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "imr_nlp" / "samples"
ARTIFACTS = Path(os.environ.get("IMR_NLP_ARTIFACTS", ROOT / "build" / "test-artifacts"))

if REQUIRED:
    import selenium  # noqa: F401

    assert CHROMIUM and CHROMEDRIVER, "IMR_NLP_REQUIRE_BROWSER=1 but chromium or chromedriver is not installed"
else:
    pytest.importorskip("selenium")
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium and chromedriver are not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

# flags for a closed network: no background connections, no first-run or sync traffic
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1800",
)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    """The report of the bundled samples and, when ../shared is beside the checkout, of its
    97 public PDFs too."""
    import imr_nlp

    paths = sorted(SAMPLES.iterdir())
    pdfs = ROOT.parent / "shared" / "corpus" / "pdf"
    if pdfs.is_dir():
        paths += sorted(pdfs.glob("*.pdf"))
    out = tmp_path_factory.mktemp("report") / "report.html"
    imr_nlp.report(paths, out=out)
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _numbers(cells) -> list[float]:
    return [float(cell.get_attribute("data-v")) for cell in cells]


def test_the_report_in_a_browser(browser, report_file):
    from imr_nlp.html_report import BREAKDOWNS

    browser.get(report_file.as_uri())
    assert browser.title == "IMR final determinations"
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]  # no script error, no fetch

    # a chart per breakdown, each with drawn bars
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) == len(BREAKDOWNS)
    for chart in charts:
        assert chart.find_elements(By.CSS_SELECTOR, "rect.bar") and chart.size["height"] > 50

    # an evidence view per letter, with labelled marks and the letter's line breaks
    rows = browser.find_elements(By.CSS_SELECTOR, "#letters tbody tr")
    views = browser.find_elements(By.CSS_SELECTOR, "section.letter")
    assert len(views) == len(rows) >= 3
    first = views[0].find_element(By.CSS_SELECTOR, ".evidence")
    assert first.find_elements(By.CSS_SELECTOR, "mark .lbl") and first.text.count("\n") > 20

    # sorting: the DWC table by decisions, ascending then descending
    table = browser.find_element(By.CSS_SELECTOR, "#dwc table")
    header = table.find_elements(By.TAG_NAME, "th")[2]
    header.click()
    column = _numbers(table.find_elements(By.CSS_SELECTOR, "tbody tr td:nth-child(3)"))
    assert column == sorted(column) and header.get_attribute("aria-sort") == "ascending"
    header.click()
    column = _numbers(table.find_elements(By.CSS_SELECTOR, "tbody tr td:nth-child(3)"))
    assert column == sorted(column, reverse=True)

    # letters are numbered from 1
    assert rows[0].find_element(By.TAG_NAME, "td").text == "1"

    # a count opens its decisions; each lands on the decision's item in its letter's view
    link = table.find_element(By.CSS_SELECTOR, "tbody tr td:nth-child(3) a.n")
    decisions = link.get_attribute("data-l").split()
    link.click()
    panel = browser.find_element(By.ID, "selection")
    assert panel.is_displayed()
    items = panel.find_elements(By.CSS_SELECTOR, "#selection-list a")
    assert len(items) == len(decisions) == int(link.text) > 0
    letter, decision = (int(n) for n in decisions[-1].split("-"))
    assert items[-1].text.startswith(f"#{letter + 1} ") and items[-1].text.endswith(f"decision {decision + 1}")
    target = items[-1].get_attribute("href").split("#")[1]
    assert target == f"letter-{letter}-decision-{decision}"
    items[-1].click()
    assert browser.execute_script("return location.hash") == f"#{target}"
    landed = browser.find_element(By.ID, target)
    assert landed.tag_name == "mark" and landed.get_attribute("class") in ("k-upheld", "k-overturned", "k-item")
    assert browser.execute_script(
        "var r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight;", landed
    )

    # the panel closes: by its button (in view however far its list is scrolled), Escape, a click outside
    from selenium.webdriver.common.keys import Keys

    assert panel.is_displayed()
    browser.execute_script("arguments[0].scrollTop = arguments[0].scrollHeight", panel)
    close = browser.find_element(By.ID, "selection-close")
    assert browser.execute_script(
        "var b = arguments[0].getBoundingClientRect(), p = arguments[1].getBoundingClientRect();"
        "return b.top >= p.top && b.bottom <= p.bottom;",
        close,
        panel,
    )
    close.click()
    assert not panel.is_displayed()
    link.click()
    assert panel.is_displayed()
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    assert not panel.is_displayed()
    link.click()
    assert panel.is_displayed()
    browser.find_element(By.TAG_NAME, "h1").click()
    assert not panel.is_displayed()
    link.click()  # open again for the screenshot below

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    assert browser.save_screenshot(str(ARTIFACTS / "report.png"))
    browser.find_element(By.ID, target).location_once_scrolled_into_view  # noqa: B018 - scrolls there
    assert browser.save_screenshot(str(ARTIFACTS / "report-letter.png"))
