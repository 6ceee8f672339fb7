"""The chat widget (mod_cc_chat/widget.js, served at GET /chat/v1/widget.js) in a real
browser: headless chromium through chromedriver (t/integration/ccbrowser.py).

A page on another loopback origin (a static site on its own port) embeds the widget with
its script tag; the visitor opens it and writes, the test reads the message through the
agent API and answers, and the answer shows in the page; a reload resumes the same session;
a page on an origin the widget does not allow gets no session.  Screenshots go to
<var>/screenshots/chat-*.png (var/ of the checkout unless CC_VAR_DIR).
"""

import json
import os
import signal
import time

import pytest

try:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
except ImportError:                 # skipped below
    pass
from ccbrowser import Browser, Site, missing, wait_for
from ccenv import ROOT
from ccobjects import uniq_name

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))

HOST = "[data-cc-chat]"
COLOR = "#0a7c42"
COLOR_RGB = "rgb(10, 124, 66)"
GREETING = "Hi! How can we help you today?"

# A page whose own CSS would spoil the widget if it reached in (and the page's elements
# that the widget's CSS would change if it leaked out).
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme shop</title>
<style>
body {{ font-family: "Times New Roman", serif; color: rgb(200, 0, 0); background: #fdf6e3;
        margin: 40px; }}
div {{ padding: 7px; border: 3px dashed orange; }}
button {{ background: rgb(0, 255, 0); font-size: 30px; border-radius: 0; }}
li {{ color: rgb(0, 0, 255); list-style: square; }}
</style></head>
<body><h1>Acme shop</h1><p>Everything for the road runner.</p>
<button id="buy" type="button">Buy</button>
<ol><li id="item">Rocket skates</li></ol>
<script src="{api}/chat/v1/widget.js" data-key="{key}" async></script>
</body></html>
"""


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.quit()


@pytest.fixture(scope="module")
def sites():
    """Two static sites: the widget's allowed origin and another one."""
    allowed, other = Site(), Site()
    yield allowed, other
    allowed.close()
    other.close()


def make_widget(cc, tenant, origins, **over):
    body = {"name": uniq_name("Acme support"), "allowed_origins": origins,
            "greeting": GREETING, "color": COLOR}
    body.update(over)
    r = cc.post("/api/v1/chat/widgets", token=tenant.admin_token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def online_agent(cc, tenant, name):
    user, token = tenant.make_user(["agent"], name=name)
    r = cc.put(f"/api/v1/chat/agents/{user['id']}", token=token, json={"status": "online"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "online"
    return user, token


def sessions_of(cc, tenant, widget_id):
    r = cc.get(f"/api/v1/chat/sessions?widget_id={widget_id}", token=tenant.admin_token)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def agent_messages(cc, token, session_id):
    r = cc.get(f"/api/v1/chat/sessions/{session_id}/messages", token=token)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def open_page(b, site, cc, widget, path):
    site.pages[path] = PAGE.format(api=cc.base_url, key=widget["public_key"])
    b.get(site.url(path))
    return wait_for("the widget to load", lambda: b.js(
        "const h = document.querySelector(arguments[0]);"
        "return h && h.getAttribute('data-cc-chat') !== 'loading' &&"
        " h.getAttribute('data-cc-chat')", HOST))


def texts(b, css):
    """The text of every element css in the widget's shadow root (hidden ones too)."""
    return b.js("return [...document.querySelector(arguments[0]).shadowRoot"
                ".querySelectorAll(arguments[1])].map(e => e.textContent)", HOST, css)


def focused(b):
    """What has the focus inside the widget: e.g. 'BUTTON.launcher', 'TEXTAREA', ''."""
    return b.js("const a = document.querySelector(arguments[0]).shadowRoot.activeElement;"
                "return a ? a.tagName + (a.className ? '.' + a.className.split(' ')[0] : '')"
                " : ''", HOST)


def stored(b, widget):
    return json.loads(b.js("return sessionStorage.getItem(arguments[0])",
                           "cc-chat:" + widget["public_key"]) or "null")


def style(b, css, prop):
    """A computed style of an element of the widget's shadow root, or of the page (css
    starting with 'page:')."""
    if css.startswith("page:"):
        return b.js("return getComputedStyle(document.querySelector(arguments[0]))"
                    ".getPropertyValue(arguments[1])", css[5:], prop)
    return b.js("return getComputedStyle(document.querySelector(arguments[0]).shadowRoot"
                ".querySelector(arguments[1])).getPropertyValue(arguments[2])", HOST, css, prop)


def console_trouble(b):
    """The browser console's errors, and whatever the widget warned about."""
    return [e for e in b.console()
            if e.get("level") == "SEVERE" or "cc-chat:" in e.get("message", "")]


def test_the_served_script_is_the_widget(cc):
    r = cc.get("/chat/v1/widget.js")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("application/javascript")
    assert r.content == (ROOT / "mod_cc_chat" / "widget.js").read_bytes()


def test_visitor_chats_with_an_agent_and_reloads(cc, tenant, browser, sites):
    b, (site, _) = browser, sites
    widget = make_widget(cc, tenant, [site.origin])
    agent, agent_token = online_agent(cc, tenant, "Anna Agent")
    b.console()                                  # what earlier tests left
    assert open_page(b, site, cc, widget, "/shop.html") == "ready"

    # The launcher: the widget's color and name, a closed panel.
    launcher = b.shadow(HOST, ".launcher")
    assert launcher.is_displayed()
    assert launcher.get_attribute("aria-expanded") == "false"
    assert widget["name"] in launcher.get_attribute("aria-label")
    assert style(b, ".launcher", "background-color") == COLOR_RGB
    assert not b.shadow(HOST, ".panel").is_displayed()
    # Neither the page's CSS in nor ours out.
    assert style(b, "page:" + HOST, "border-top-style") == "none"
    assert style(b, ".w", "color") == "rgb(31, 35, 40)"
    assert style(b, "textarea", "font-family").startswith("system-ui")
    assert style(b, "page:#buy", "background-color") == "rgb(0, 255, 0)"
    assert style(b, "page:#buy", "font-size") == "30px"
    assert style(b, "page:#item", "color") == "rgb(0, 0, 255)"

    launcher.click()
    panel = b.shadow(HOST, ".panel")
    wait_for("the panel to open", panel.is_displayed)
    assert launcher.get_attribute("aria-expanded") == "true"
    assert panel.get_attribute("role") == "dialog"
    assert panel.get_attribute("aria-label") == widget["name"]
    assert b.shadow(HOST, ".title").text == widget["name"]
    assert b.shadow(HOST, ".greet").text == GREETING
    assert b.shadow(HOST, ".log").get_attribute("aria-live") == "polite"
    assert style(b, ".head", "background-color") == COLOR_RGB
    assert focused(b) == "TEXTAREA"
    assert sessions_of(cc, tenant, widget["id"]) == []      # opening made no session

    # The visitor writes; the agent reads it through the API.
    question = "Hello, where is my order #4711?"
    b.shadow(HOST, "textarea").send_keys(question, Keys.ENTER)
    sessions = wait_for("the session", lambda: sessions_of(cc, tenant, widget["id"]))
    assert len(sessions) == 1
    sid = sessions[0]["id"]
    assert sessions[0]["origin"] == site.origin
    msgs = wait_for("the visitor's message", lambda: agent_messages(cc, agent_token, sid))
    assert [(m["sender_type"], m["body"]) for m in msgs] == [("visitor", question)]
    wait_for("the message in the page", lambda: texts(b, "li.visitor") == [question])
    assert stored(b, widget)["session_id"] == sid
    wait_for("the agent's name in the header",
             lambda: b.shadow(HOST, ".sub").text == "You are chatting with Anna Agent")
    assert b.shadow(HOST, "textarea").get_attribute("value") == ""

    # The agent answers; the answer appears live.
    answer = "Hi, this is Anna. It left our warehouse this morning."
    r = cc.post(f"/api/v1/chat/sessions/{sid}/messages", token=agent_token,
                json={"body": answer})
    assert r.status_code == 201, r.text
    t0 = time.monotonic()
    wait_for("the agent's answer in the page",
             lambda: texts(b, "li.agent") == ["Anna Agent" + answer])
    delivery = time.monotonic() - t0
    b.screenshot("chat-conversation")

    # A reload resumes the same session: the history, then the live stream again.
    b.driver.refresh()
    assert wait_for("the widget after the reload", lambda: b.js(
        "const h = document.querySelector(arguments[0]);"
        "return h && h.getAttribute('data-cc-chat') === 'ready'", HOST))
    wait_for("the history after the reload",
             lambda: texts(b, "li[data-id]") == [question, "Anna Agent" + answer])
    assert b.shadow(HOST, ".panel").is_displayed()               # it was open
    assert b.shadow(HOST, ".launcher").get_attribute("aria-expanded") == "true"
    assert stored(b, widget)["session_id"] == sid
    wait_for("the header after the reload",
             lambda: b.shadow(HOST, ".sub").text == "You are chatting with Anna Agent")
    b.shadow(HOST, "textarea").send_keys("Thanks! Can it go to my office instead?", Keys.ENTER)
    wait_for("the second message through the API",
             lambda: len(agent_messages(cc, agent_token, sid)) == 3)
    assert len(sessions_of(cc, tenant, widget["id"])) == 1
    r = cc.post(f"/api/v1/chat/sessions/{sid}/messages", token=agent_token,
                json={"body": "Done: it goes to your office."})
    assert r.status_code == 201, r.text
    wait_for("the second answer, live after the reload",
             lambda: texts(b, "li.agent")[-1:] == ["Anna AgentDone: it goes to your office."])
    b.screenshot("chat-after-reload")

    # The agent closes the chat: the widget says so and forgets the session.
    r = cc.post(f"/api/v1/chat/sessions/{sid}/close", token=agent_token)
    assert r.status_code == 200, r.text
    wait_for("the end of the chat",
             lambda: b.shadow(HOST, ".sub").text == "This chat has ended")
    assert stored(b, widget) is None
    assert texts(b, "li.note")[-1].startswith("This chat has ended")
    b.screenshot("chat-ended")

    # No session, no End chat; writing again starts a new chat, which the visitor ends
    # itself (told once, though the stream says it too).
    assert not b.shadow(HOST, ".end").is_displayed()
    b.shadow(HOST, "textarea").send_keys("One more thing", Keys.ENTER)
    again = wait_for("the second session", lambda: [
        s for s in sessions_of(cc, tenant, widget["id"]) if s["id"] != sid])
    sid2 = again[0]["id"]
    end = b.shadow(HOST, ".end")
    wait_for("the End chat button", end.is_displayed)
    end.click()
    wait_for("the visitor's own end",
             lambda: b.shadow(HOST, ".sub").text == "This chat has ended")
    s2 = cc.get(f"/api/v1/chat/sessions/{sid2}", token=agent_token).json()
    assert (s2["status"], s2["closed_by"]) == ("closed", "visitor")
    assert stored(b, widget) is None
    time.sleep(0.5)                  # the stream's close frame, too
    assert len(texts(b, "li.note")) == 2
    assert not b.shadow(HOST, ".end").is_displayed()
    assert console_trouble(b) == []
    print(f"answer shown {delivery * 1000:.0f} ms after the agent's POST returned")


# AH00493/AH00494: the graceful restart.  AH03490 ("scoreboard is full"): the test
# profile's ServerLimit leaves no slot for the new children while the old ones end their
# streams (the stream ends within a second of the signal).
@pytest.mark.allow_log("AH00493", "AH00494", "AH03490")
def test_waiting_then_joined_unread_and_reconnect(cc, tenant, browser, sites):
    """No agent online: the visitor waits (position); an agent comes online and joins
    (live); an answer while the panel is closed marks the launcher; after a graceful
    restart of httpd (every stream cut) the stream comes back by itself."""
    b, (site, _) = browser, sites
    widget = make_widget(cc, tenant, [site.origin], color="#f6c343")   # a light color
    agent, agent_token = tenant.make_user(["agent"], name="Bob Agent")
    b.console()
    assert open_page(b, site, cc, widget, "/wait.html") == "ready"
    assert style(b, ".launcher", "color") == "rgb(0, 0, 0)"     # dark text on it
    b.shadow(HOST, ".launcher").click()
    b.shadow(HOST, "textarea").send_keys("Anyone there?", Keys.ENTER)
    sessions = wait_for("the session", lambda: sessions_of(cc, tenant, widget["id"]))
    sid = sessions[0]["id"]
    assert (sessions[0]["status"], sessions[0]["position"]) == ("waiting", 1)
    wait_for("the visitor's place in line", lambda: b.shadow(HOST, ".sub").text
             == "Waiting for an agent: you are number 1 in line")
    b.screenshot("chat-waiting")

    b.keys(Keys.ESCAPE)
    r = cc.put(f"/api/v1/chat/agents/{agent['id']}", token=agent_token,
               json={"status": "online"})
    assert r.status_code == 200, r.text
    wait_for("the agent joining", lambda: texts(b, ".sub") == ["You are chatting with Bob Agent"])
    r = cc.post(f"/api/v1/chat/sessions/{sid}/messages", token=agent_token,
                json={"body": "Yes, Bob here."})
    assert r.status_code == 201, r.text
    launcher = b.shadow(HOST, ".launcher")
    wait_for("the launcher to say there is news",
             lambda: "unread" in launcher.get_attribute("class"))
    assert launcher.get_attribute("aria-label").endswith("(new messages)")
    b.screenshot("chat-unread")
    launcher.click()
    wait_for("the answer", lambda: b.shadow(HOST, "li.agent").text == "Bob Agent\nYes, Bob here.")
    assert "unread" not in launcher.get_attribute("class")

    if "-X" in os.environ.get("CC_HTTPD_ARGS", "").split():
        return                       # a single-process httpd has no child to replace
    pid = int((cc.tmpdir / "httpd" / "run" / "httpd.pid").read_text())
    os.kill(pid, signal.SIGUSR1)                        # apachectl -k graceful
    body = "Still here after the restart."
    deadline = time.monotonic() + 20
    while True:
        try:
            r = cc.post(f"/api/v1/chat/sessions/{sid}/messages", token=agent_token,
                        json={"body": body}, timeout=5)
            if r.status_code == 201:
                break
        except Exception:
            pass
        assert time.monotonic() < deadline, "the API did not come back after the restart"
        time.sleep(0.2)
    wait_for("the answer after the restart", lambda: texts(b, "li.agent")[-1:]
             == ["Bob Agent" + body], timeout=30)
    assert len(texts(b, "li.agent")) == 2
    assert stored(b, widget)["session_id"] == sid
    assert console_trouble(b) == []


def test_a_refused_token_is_forgotten(cc, tenant, browser, sites):
    """A stored session whose token the API refuses (401, readable by the page: it carries
    the CORS headers) is dropped on load; with its right token the same session resumes
    with its history."""
    b, (site, _) = browser, sites
    widget = make_widget(cc, tenant, [site.origin])
    key = widget["public_key"]
    r = cc.post(f"/chat/v1/widgets/{key}/sessions", json={}, headers={"Origin": site.origin})
    assert r.status_code == 201, r.text
    made = r.json()
    r = cc.post(f"/chat/v1/sessions/{made['session_id']}/messages", json={"body": "Earlier"},
                headers={"Origin": site.origin,
                         "Authorization": "Visitor " + made["visitor_token"]})
    assert r.status_code == 201, r.text
    assert open_page(b, site, cc, widget, "/token.html") == "ready"

    def reload_with(token):
        b.js("sessionStorage.setItem(arguments[0], JSON.stringify(arguments[1]))",
             "cc-chat:" + key, {"session_id": made["session_id"], "visitor_token": token,
                                "expires_at": made["expires_at"]})
        return open_page(b, site, cc, widget, "/token.html")

    wrong = made["visitor_token"][:-4] + ("AAAA" if not made["visitor_token"].endswith("AAAA")
                                           else "BBBB")
    assert reload_with(wrong) == "ready"
    wait_for("the refused session to be forgotten", lambda: stored(b, widget) is None)
    assert texts(b, "li[data-id]") == []
    assert reload_with(made["visitor_token"]) == "ready"
    wait_for("the history", lambda: texts(b, "li[data-id]") == ["Earlier"])
    assert stored(b, widget)["session_id"] == made["session_id"]


def test_keyboard(cc, tenant, browser, sites):
    b, (site, _) = browser, sites
    widget = make_widget(cc, tenant, [site.origin], name="Keyboard help")
    assert open_page(b, site, cc, widget, "/keys.html") == "ready"

    # Tab from the page's last control reaches the launcher.
    b.js("document.getElementById('buy').focus()")
    b.keys(Keys.TAB)
    assert focused(b) == "BUTTON.launcher"
    launcher = b.shadow(HOST, ".launcher")
    assert launcher.get_attribute("aria-label") == "Open chat: Keyboard help"

    b.keys(Keys.ENTER)
    wait_for("the panel to open", b.shadow(HOST, ".panel").is_displayed)
    assert launcher.get_attribute("aria-expanded") == "true"
    assert focused(b) == "TEXTAREA"
    # Shift+Enter is a new line, not a send.
    b.keys("first line")
    ActionChains(b.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT) \
        .send_keys("second line").perform()
    assert b.shadow(HOST, "textarea").get_attribute("value") == "first line\nsecond line"
    b.screenshot("chat-keyboard")

    b.keys(Keys.ESCAPE)
    wait_for("the panel to close", lambda: not b.shadow(HOST, ".panel").is_displayed())
    assert launcher.get_attribute("aria-expanded") == "false"
    assert focused(b) == "BUTTON.launcher"
    assert sessions_of(cc, tenant, widget["id"]) == []

    # Open again, and close with the header's button (focus back on the launcher).
    b.keys(Keys.ENTER)
    wait_for("the panel to open again", b.shadow(HOST, ".panel").is_displayed)
    b.shadow(HOST, ".x").click()
    wait_for("the panel to close", lambda: not b.shadow(HOST, ".panel").is_displayed())
    assert focused(b) == "BUTTON.launcher"


def test_origin_not_allowed(cc, tenant, browser, sites):
    b, (site, other) = browser, sites
    widget = make_widget(cc, tenant, [site.origin])
    online_agent(cc, tenant, "Otto Agent")
    b.console()
    assert open_page(b, other, cc, widget, "/elsewhere.html") == "unavailable"
    assert b.shadow_all(HOST, ".launcher") and not b.shadow(HOST, ".launcher").is_displayed()

    # What the widget would do, done by the page itself: the browser refuses it (CORS).
    outcome = b.js_async("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {method: 'POST', headers: {'Content-Type': 'application/json'},
                             body: '{}'})
          .then(r => done('answered ' + r.status), e => done('refused: ' + e.name));
    """, f"{cc.base_url}/chat/v1/widgets/{widget['public_key']}/sessions")
    assert outcome == "refused: TypeError"
    # The same request outside a browser: 403, and nothing allows the origin.
    r = cc.post(f"/chat/v1/widgets/{widget['public_key']}/sessions", json={},
                headers={"Origin": other.origin})
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "forbidden"
    assert "Access-Control-Allow-Origin" not in r.headers
    assert sessions_of(cc, tenant, widget["id"]) == []
    b.screenshot("chat-origin-refused")
    assert any("unavailable" in e["message"] for e in b.console())
