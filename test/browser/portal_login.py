#!/usr/bin/python3
"""The user firewall's login page in a real browser (headless Chromium through Debian's
chromedriver and python3-selenium).

Opens the portal's login page, chooses the access type "User firewall", types the user name and
password, submits, and checks that the success page names every expected template and has a
logout button; saves a screenshot of it; clicks logout and checks that the session has ended
(the page says so or shows the login form again). Prints one "ok: ..." line per step and the
screenshot's path; exits 1 with "FAIL: ..." on the first step that fails, 2 on a usage error.

Run it where the portal is reachable, e.g. inside a host's namespace:
  ip netns exec NS /usr/bin/python3 test/browser/portal_login.py --url https://192.168.1.1/ \
      --user hpotter --password ... --template "Access Web-Server (HTTP)" --screenshot out.png
(Debian's /usr/bin/python3: selenium is a Debian package, not in a PATH interpreter's site.)
"""
import argparse
import os
import re
import shutil
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--ignore-certificate-errors", "--disable-dev-shm-usage", "--window-size=1024,768"]


def fail(what, driver=None, shot=None):
    print(f"FAIL: {what}")
    if driver is not None:
        if shot:
            try:
                driver.save_screenshot(shot)
                print(f"screenshot of the failure: {shot}")
            except WebDriverException:
                pass
        try:
            print("--- page text:\n" + driver.find_element(By.TAG_NAME, "body").text[:2000])
        except WebDriverException:
            pass
    sys.exit(1)


def body_text(driver):
    return driver.find_element(By.TAG_NAME, "body").text


def submit_button(scope):
    found = scope.find_elements(By.CSS_SELECTOR, "button[type=submit], input[type=submit], button:not([type])")
    return found[0] if found else None


def logout_button(driver):
    # A button (or submit input) labelled log out / logout / sign out, or the submit of a form
    # whose action ends in /logout.
    label = re.compile(r"log\s*-?\s*out|sign\s*out|abmelden", re.I)
    for el in driver.find_elements(By.CSS_SELECTOR, "button, input[type=submit], input[type=button]"):
        if label.search(el.text or "") or label.search(el.get_attribute("value") or ""):
            return el
    for form in driver.find_elements(By.TAG_NAME, "form"):
        if (form.get_attribute("action") or "").rstrip("/").endswith("/logout"):
            return submit_button(form)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--template", action="append", default=[], help="a template the success page must name")
    ap.add_argument("--access-type", default="User firewall")
    ap.add_argument("--screenshot", required=True, help="where to save the success page's screenshot (PNG)")
    ap.add_argument("--timeout", type=float, default=15.0, help="seconds for each page")
    args = ap.parse_args()

    profile = tempfile.mkdtemp(prefix="bulwark-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.accept_insecure_certs = True
    failure_shot = re.sub(r"(\.png)?$", "-failure.png", args.screenshot, count=1)
    driver = None
    try:
        started = time.monotonic()
        try:
            driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        except WebDriverException as e:
            fail(f"Chromium did not start through chromedriver: {e.msg}")
        driver.set_page_load_timeout(args.timeout)
        print(f"ok: headless Chromium started ({driver.capabilities.get('browserVersion', '?')}, "
              f"{time.monotonic() - started:.1f} s)")

        try:
            driver.get(args.url)
        except WebDriverException as e:
            fail(f"the login page {args.url} did not load: {e.msg}", driver, failure_shot)
        wait = WebDriverWait(driver, args.timeout)
        try:
            user = wait.until(lambda d: d.find_element(By.NAME, "username"))
            password = driver.find_element(By.NAME, "password")
        except WebDriverException:
            fail("the login page has no username and password fields", driver, failure_shot)
        if password.get_attribute("type") != "password":
            fail("the password field is not an <input type=password>", driver, failure_shot)
        form = password.find_element(By.XPATH, "ancestor::form")
        if not (form.get_attribute("action") or "").rstrip("/").endswith("/login"):
            fail(f"the login form posts to {form.get_attribute('action')!r}, not /login", driver, failure_shot)
        if (form.get_attribute("method") or "").lower() != "post":
            fail("the login form does not use POST", driver, failure_shot)
        print(f"ok: the login page has username and password fields posting to /login ({driver.title!r})")

        selects = form.find_elements(By.TAG_NAME, "select")
        if not selects:
            fail("the login page has no access-type select", driver, failure_shot)
        chosen = None
        for sel in selects:
            for option in Select(sel).options:
                if option.text.strip().lower() == args.access_type.lower():
                    Select(sel).select_by_visible_text(option.text)
                    chosen = option.text.strip()
        if chosen is None:
            fail(f"no access-type option {args.access_type!r}", driver, failure_shot)
        print(f"ok: selected the access type {chosen!r}")

        user.clear()
        user.send_keys(args.user)
        password.clear()
        password.send_keys(args.password)
        button = submit_button(form)
        if button is None:
            fail("the login form has no submit button", driver, failure_shot)
        login_page = driver.find_element(By.TAG_NAME, "html")
        button.click()
        try:
            WebDriverWait(driver, args.timeout).until(lambda d: login_page != d.find_element(By.TAG_NAME, "html"))
        except WebDriverException:
            fail("submitting the login form loaded no new page", driver, failure_shot)
        text = body_text(driver)
        for template in args.template:
            if template not in text:
                fail(f"the success page does not name the template {template!r}", driver, failure_shot)
        if args.template:
            print(f"ok: the success page names {', '.join(repr(t) for t in args.template)}")
        if driver.find_elements(By.NAME, "password"):
            fail("the page after the login still asks for a password (login refused?)", driver, failure_shot)
        out = logout_button(driver)
        if out is None:
            fail("the success page has no logout button", driver, failure_shot)
        print(f"ok: the success page has a logout button ({(out.text or out.get_attribute('value')).strip()!r})")
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        if not driver.save_screenshot(args.screenshot):
            fail(f"could not save the screenshot {args.screenshot}")
        print(f"ok: screenshot of the success page saved: {args.screenshot}")

        success_page = driver.find_element(By.TAG_NAME, "html")
        out.click()
        try:
            WebDriverWait(driver, args.timeout).until(lambda d: success_page != d.find_element(By.TAG_NAME, "html"))
        except WebDriverException:
            fail("clicking logout loaded no new page", driver, failure_shot)
        text = body_text(driver)
        if not (re.search(r"logged\s+out|signed\s+out|session\s+(has\s+)?ended", text, re.I)
                or driver.find_elements(By.NAME, "password")):
            fail("after logout the page neither says so nor shows the login form", driver, failure_shot)
        if logout_button(driver) is not None:
            fail("after logout the page still has a logout button", driver, failure_shot)
        print("ok: logged out (the page after the logout: " + " ".join(text.split())[:120] + ")")
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
