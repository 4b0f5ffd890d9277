"""The results page in a real browser (Debian's headless Chromium) while votes flow."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from confluent_kafka import Producer

from jobs.tally_votes import run_micro_batches
from tallyflow.votes.event import VoteEvent
from tests.conftest import REPO_ROOT, open_for_voting, serve_site

SCREENSHOTS = REPO_ROOT / "docs" / "img"
CANDIDATES = ["ada-okafor", "bruno-lind", "chen-wei"]


@pytest.fixture
def site(services_env):
    """The results site on a free port, as `tallyflow up` serves it."""
    with serve_site(services_env, TALLYFLOW_SITE_POLL_MS="1000") as url:
        yield url


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "Debian's chromium and chromium-driver are needed: make test " \
                                "installs them"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1280,1800",
                 f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(driver), options=options)
    yield session
    session.quit()


def _cast(bootstrap: str, topic: str, election_id: str, credentials: list[str]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for i, credential in enumerate(credentials):
        event = VoteEvent.ballot(election_id, credential, "north-1",
                                 {"president": [CANDIDATES[i % 7 % 3]]})
        producer.produce(topic, event.to_json(), key=event.key)
    assert producer.flush(30) == 0


def _wait_for_text(browser, element_id: str, text: str, timeout: float = 30.0) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout).until(
        expected_conditions.text_to_be_present_in_element((By.ID, element_id), text))
    return browser.find_element(By.ID, element_id).text


def test_results_page_updates_without_reloading_while_votes_flow(
    site, browser, services_settings, postgres_url, kafka_bootstrap, spark, new_election,
    tmp_path
):
    election = new_election()
    eid = election.election_id
    issued = open_for_voting(postgres_url, eid, 300, 5, tmp_path)
    topic = services_settings.votes_topic
    credentials = [credential for _voter, credential in issued]

    def tally() -> None:
        run_micro_batches(spark, postgres_url, kafka_bootstrap, topic,
                          services_settings.votes_partition_ids, seconds=60,
                          stop_when_idle=True, say=lambda _m: None)

    _cast(kafka_bootstrap, topic, eid, credentials[:120])
    tally()
    browser.get(f"{site}/elections/{eid}")
    assert "120" in _wait_for_text(browser, "results-completeness", "120")
    assert "Unofficial" in browser.find_element("id", "results-label").text
    browser.execute_script("window.stillTheSamePage = true;")

    _cast(kafka_bootstrap, topic, eid, credentials[120:200])
    tally()

    assert "200" in _wait_for_text(browser, "results-completeness", "200")
    assert browser.execute_script("return window.stillTheSamePage === true;")
    time.sleep(1.5)  # the figures' patches land with the same poll as the numbers
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "results.png"))  # as patched, not as loaded
    headline = browser.find_element("id", "results-president-headline").text
    assert "leads by" in headline
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"
              and "favicon" not in entry["message"]]
    assert severe == []

    # on a phone: one column, nothing wider than the screen
    browser.set_window_size(390, 844)
    browser.get(f"{site}/elections/{eid}")
    _wait_for_text(browser, "results-completeness", "200")
    time.sleep(1.0)
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1;")
    browser.set_window_size(1280, 1800)

    browser.get(site + "/")
    _wait_for_text(browser, "home-elections-table", election.title)
    browser.save_screenshot(str(SCREENSHOTS / "home.png"))

    # a voter casts a ballot on the vote page, then checks it was counted
    from selenium.webdriver.common.by import By

    browser.get(f"{site}/vote?election={eid}")
    _wait_for_text(browser, "vote-ballot", "Your polling place")
    browser.find_element(By.ID, "vote-credential").send_keys(credentials[250])
    _wait_for_text(browser, "vote-contests", "Chen Wei")  # the voter's ballot, once known
    browser.find_element(By.XPATH, "//label[contains(., 'Northport')]").click()
    browser.find_element(By.XPATH, "//label[contains(., 'Chen Wei')]").click()
    browser.find_element(By.ID, "vote-cast").click()
    _wait_for_text(browser, "vote-answer", "Your ballot was received")
    browser.save_screenshot(str(SCREENSHOTS / "vote.png"))
    browser.find_element(By.ID, "vote-verify-link").click()
    _wait_for_text(browser, "verify-answer", "waiting to be counted")
    tally()
    browser.find_element(By.ID, "verify-check").click()
    assert "Counted at" in _wait_for_text(browser, "verify-answer", "was counted")
    browser.save_screenshot(str(SCREENSHOTS / "verify.png"))
    browser.get(f"{site}/elections/no-such-election")
    assert "No such election" in _wait_for_text(browser, "results-body", "No such election")
    assert all(Path(SCREENSHOTS / name).stat().st_size > 10_000
               for name in ("results.png", "home.png", "vote.png", "verify.png"))


def test_a_ranked_contest_shows_its_rounds_and_transfers_in_the_browser(
    site, browser, services_settings, postgres_url, kafka_bootstrap, spark, new_election,
    tmp_path
):
    import random

    from selenium.webdriver.common.by import By

    from tallyflow import db

    election = new_election("ranked-mayor.json")
    eid = election.election_id
    issued = open_for_voting(postgres_url, eid, 200, 6, tmp_path)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, region_id from voters where election_id = %s", (eid,))
        regions = dict(cur.fetchall())
    candidates = {c.contest_id: [o.option_id for o in c.options] for c in election.contests}
    rng = random.Random(11)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    for voter, credential in issued[:150]:
        rankings = {cid: rng.sample(names, rng.randint(1, len(names)))
                    for cid, names in candidates.items()}
        event = VoteEvent.ballot(eid, credential, regions[voter], rankings)
        producer.produce(services_settings.votes_topic, event.to_json(), key=event.key)
    assert producer.flush(30) == 0
    run_micro_batches(spark, postgres_url, kafka_bootstrap, services_settings.votes_topic,
                      services_settings.votes_partition_ids, seconds=60,
                      stop_when_idle=True, say=lambda _m: None)

    browser.get(f"{site}/elections/{eid}")
    headline = _wait_for_text(browser, "results-mayor-headline", "rounds")
    assert " leads after " in headline
    details = browser.find_element(By.ID, "results-mayor-details").text
    assert "Provisional" in details and "Round 1" in details and "Exhausted" in details
    # Two council seats by single transferable vote.
    assert " lead after " in _wait_for_text(browser, "results-council-headline", "rounds")
    time.sleep(1.5)  # Plotly draws the Sankey after the page's text
    assert browser.find_elements(By.CSS_SELECTOR, ".sankey")  # Plotly's Sankey layer
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "ranked.png"))
    assert _serious_accessibility_problems(browser) == []
    browser.get(f"{site}/vote?election={eid}")  # one group of radio buttons per rank
    _wait_for_text(browser, "vote-ballot", "Your polling place")
    browser.find_element(By.ID, "vote-credential").send_keys(issued[199][1])
    _wait_for_text(browser, "vote-contests", "Choice 1")
    assert _serious_accessibility_problems(browser) == []
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"
              and "favicon" not in entry["message"]]
    assert severe == []


AXE = REPO_ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


def _serious_accessibility_problems(browser) -> list[str]:
    """axe-core's serious and critical violations on the page the browser shows."""
    assert AXE.exists(), f"axe-core is missing ({AXE}): make test installs it with npm"
    browser.execute_script(AXE.read_text())
    browser.set_script_timeout(60)
    violations = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations))"
        ".catch(e => done([{id: 'axe-failed', impact: 'critical', help: String(e),"
        " nodes: []}]));")
    return [f"{v['id']} ({v['impact']}): {v['help']}: "
            f"{[n.get('target') for n in v['nodes']][:3]}"
            for v in violations if v["impact"] in ("serious", "critical")]


def _tab_to(browser, selector: str, presses: int = 80):
    """Press Tab until the focused element matches ``selector`` (a CSS selector): the
    element is reachable with the keyboard alone."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for _ in range(presses):
        if browser.execute_script("return document.activeElement.matches(arguments[0]);",
                                  selector):
            return browser.switch_to.active_element
        ActionChains(browser).send_keys(Keys.TAB).perform()
    raise AssertionError(f"{selector} is not reachable with the Tab key")


def test_every_page_passes_axe_and_a_ballot_is_cast_with_the_keyboard_alone(
    site, browser, services_settings, postgres_url, kafka_bootstrap, spark, new_election,
    tmp_path
):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    election = new_election("general-election.json")
    eid = election.election_id
    issued = open_for_voting(postgres_url, eid, 100, 8, tmp_path)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    with_regions = dict(issued)
    from tallyflow import db

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, region_id from voters where election_id = %s", (eid,))
        regions = dict(cur.fetchall())
    contests = {c.contest_id: [o.option_id for o in c.options] for c in election.contests}
    for i, (voter, credential) in enumerate(list(with_regions.items())[:60]):
        choice = {cid: [names[i % len(names)]] for cid, names in contests.items()}
        event = VoteEvent.ballot(eid, credential, regions[voter], choice)
        producer.produce(services_settings.votes_topic, event.to_json(), key=event.key)
    assert producer.flush(30) == 0
    run_micro_batches(spark, postgres_url, kafka_bootstrap, services_settings.votes_topic,
                      services_settings.votes_partition_ids, seconds=60,
                      stop_when_idle=True, say=lambda _m: None)

    problems = {}
    browser.get(site + "/")
    _wait_for_text(browser, "home-elections-table", election.title)
    problems["home"] = _serious_accessibility_problems(browser)
    browser.get(f"{site}/elections/{eid}")
    _wait_for_text(browser, "results-completeness", "60")
    time.sleep(1.5)
    problems["results"] = _serious_accessibility_problems(browser)

    # The map's contest is chosen with the keyboard: the radio group, then an arrow key.
    _tab_to(browser, "#map-contest input[type=radio]")
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    drawn = f"{election.contests[1].title}: leader by precinct"
    # The page is redrawn with the new map: an element found just before may go stale.
    WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: drawn in b.find_element(By.CSS_SELECTOR, ".precincts-section").text)

    # A ballot cast without a pointer: Tab to each control, type, Space to choose.
    voter, credential = list(with_regions.items())[90]
    browser.get(f"{site}/vote?election={eid}")
    _wait_for_text(browser, "vote-ballot", "Your polling place")
    _wait_for_text(browser, "vote-contests", "Enter your credential to see your ballot")
    _tab_to(browser, "#vote-credential").send_keys(credential)
    _wait_for_text(browser, "vote-contests", "Mayor")  # the voter's ballot, once known
    problems["vote"] = _serious_accessibility_problems(browser)
    precinct = browser.find_element(By.XPATH, f"//label[contains(., "
                                    f"'{_region_name(election, regions[voter])}')]//input")
    _tab_to(browser, "#vote-precinct input[type=radio]")
    for _ in range(12):  # arrow keys move through the group
        if browser.switch_to.active_element == precinct:
            break
        ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    assert precinct.is_selected()
    mayor = browser.find_element(By.XPATH, "//fieldset[legend[contains(., 'Mayor')]]"
                                 "//input[@type='radio']")
    _tab_to(browser, f"fieldset input[type=radio][value='{mayor.get_attribute('value')}']")
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    _tab_to(browser, "#vote-cast").send_keys(Keys.ENTER)
    _wait_for_text(browser, "vote-answer", "Your ballot was received")
    browser.find_element(By.ID, "vote-verify-link").click()
    _wait_for_text(browser, "verify-answer", "waiting to be counted")
    problems["verify"] = _serious_accessibility_problems(browser)

    assert problems == {"home": [], "results": [], "vote": [], "verify": []}, \
        "\n".join(f"{page}: {p}" for page, found in problems.items() for p in found)


def _region_name(election, region_id: str) -> str:
    return next(r.name for r in election.regions if r.region_id == region_id)
