"""A real browser for the integration tests: Debian's chromium, headless, driven through
chromedriver by Debian's python3-selenium (t/env/deps.sh installs all three), and a small
static web site on its own loopback port (another origin than the API's) to embed things in.

- missing(): why the browser cannot run here (None when it can); tests skip with it.
- Browser(): one headless chromium; every wait is bounded.  shadow(host_css, css) finds
  inside an open shadow root; screenshot(name) writes <var>/screenshots/<name>.png, where
  <var> is CC_VAR_DIR or the checkout's var/ (as t/env/lib.sh); console() is the page's
  console so far.
- Site(pages): {path: html} served on http://127.0.0.1:<free port>; .origin, .url(path).
"""

import http.server
import os
import threading
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("CC_VAR_DIR") or ROOT / "var") / "screenshots"
WAIT = 15.0          # seconds any one thing in the page may take


def missing():
    """Why no browser test can run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} is not installed (Debian packages chromium, chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "python3-selenium is not installed"
    return None


def wait_for(what, fn, timeout=WAIT, interval=0.1):
    """fn() until it returns something true (returned); AssertionError naming what (and
    the last value or exception) after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = fn()
            if v:
                return v
            last = v
        except Exception as e:  # an element not there yet, a stale one...
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} "
                                 f"(last: {last!r})")
        time.sleep(interval)


class Browser:
    def __init__(self, width=1200, height=860):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
                  "--no-first-run", "--disable-extensions", "--disable-background-networking",
                  "--disable-sync", "--disable-component-update", "--mute-audio",
                  f"--window-size={width},{height}", "--force-device-scale-factor=1",
                  "--lang=en-US"):
            opts.add_argument(a)
        if os.geteuid() == 0:
            opts.add_argument("--no-sandbox")   # chromium's sandbox refuses to run as root
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(WAIT)
        self.driver.implicitly_wait(0)
        self._console = []

    def quit(self):
        try:
            self.driver.quit()
        except Exception:
            pass

    def get(self, url):
        self.driver.get(url)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def js_async(self, script, *args):
        """execute_async_script: the script calls arguments[arguments.length - 1](result)."""
        return self.driver.execute_async_script(script, *args)

    def shadow_root(self, host_css):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, host_css).shadow_root

    def shadow(self, host_css, css):
        """The first element matching css in host_css's shadow root (NoSuchElement if none)."""
        from selenium.webdriver.common.by import By
        return self.shadow_root(host_css).find_element(By.CSS_SELECTOR, css)

    def shadow_all(self, host_css, css):
        from selenium.webdriver.common.by import By
        return self.shadow_root(host_css).find_elements(By.CSS_SELECTOR, css)

    def keys(self, *keys):
        """Keys typed to whatever has the focus (as a user would)."""
        from selenium.webdriver.common.action_chains import ActionChains
        ActionChains(self.driver).send_keys(*keys).perform()

    def screenshot(self, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        assert self.driver.save_screenshot(str(path)), path
        return path

    def console(self):
        """Every console entry of the browser so far ({level, message, ...})."""
        self._console.extend(self.driver.get_log("browser"))
        return list(self._console)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        pages = self.server.pages
        path = self.path.split("?", 1)[0]
        if path not in pages:
            self.send_response(404 if path != "/favicon.ico" else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = pages[path].encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class Site:
    """Static pages on 127.0.0.1:<free port>, served by a thread until close()."""

    def __init__(self, pages=None):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.pages = dict(pages or {})
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @property
    def pages(self):
        return self.httpd.pages

    def url(self, path="/"):
        return self.origin + path

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
