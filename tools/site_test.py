"""Test the built book in a real browser, offline: ``make site-test`` (after ``make book``).

    .venv/bin/python tools/site_test.py [_build/html] [--out _build/site-test]

Serves the built site on 127.0.0.1 and drives Debian's headless Chromium through the DevTools
protocol (over tornado's websocket client, already in the environment; nothing downloads a
browser). Every request that would leave 127.0.0.1 is refused by the browser and reported, so a
page that passes reads the same with no network. For every page of the book, and every rendered
slide deck (``slides/*.slides.html``), it checks:

* it loads with no console error, no uncaught exception and no failed request;
* math is typeset: every math element holds MathJax output, and no raw ``$$`` or ``\\(`` is left
  in the text outside code;
* every image loads and has an alt text (not its file name) or a caption;
* each interactive figure shows its static figure (the HTML book has no kernel to run it);
* a chapter's Colab button opens its student edition (``student/book/<chapter>.ipynb``, which
  must exist) and its download button offers the notebook;
* every internal link and cross-reference resolves, anchors included (checked on the files);

that every deck in ``lectures/`` is rendered with all its slides and printed to a PDF handout,
and every chapter page links to its deck, and no slide is larger than the screen (reveal.js
would cut it off); that the search page finds a word that occurs only in the last chapter; and it writes a
screenshot of the first screen of each chapter at a desktop (1400x1000) and a phone (390x844)
width to ``_build/site-test/``, failing on a page whose screenshot is blank. It exits with status
1 and a list of the problems, or 0 with a summary.
"""

import argparse
import asyncio
import base64
import functools
import http.server
import io
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

ROOT = Path(__file__).resolve().parent.parent
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                 "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                 "--mute-audio", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
DESKTOP, PHONE = (1400, 1000), (390, 844)


# --- the site, served locally ----------------------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder):
    """Serve ``folder`` on 127.0.0.1 in a thread; returns (base URL, server)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


# --- links and anchors, read from the files ----------------------------------------------------

class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag in ("a", "link") and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag in ("img", "script") and attrs.get("src"):
            self.hrefs.append(attrs["src"])


@functools.lru_cache(maxsize=None)
def _parse(path):
    parser = _Links()
    parser.feed(Path(path).read_text(encoding="utf-8", errors="replace"))
    return parser


def broken_links(site, page):
    """The internal links of ``page`` whose file or anchor does not exist."""
    broken = []
    for href in _parse(page).hrefs:
        url = urlparse(href)
        if url.scheme or href.startswith(("//", "mailto:", "javascript:")):
            continue
        target = page if not url.path else (page.parent / unquote(url.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.exists() or site.resolve() not in [target, *target.parents]:
            broken.append(href)
        elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in _parse(target).ids:
            broken.append(href)
    return broken


# --- a minimal DevTools protocol client ------------------------------------------------------

class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, executable, profile):
        port = _free_port()
        self.proc = subprocess.Popen(
            [executable, *BROWSER_FLAGS, f"--remote-debugging-port={port}",
             f"--user-data-dir={profile}", "--window-size=1400,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.port = port
        self.events, self.pending, self.next_id = [], {}, 0
        self.blocked = []

    async def start(self):
        from tornado.websocket import websocket_connect

        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=2) as r:
                    pages = [t for t in json.load(r) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("Chromium did not start (is it installed? is --headless supported?)")
            await asyncio.sleep(0.2)
        self.ws = await websocket_connect(pages[0]["webSocketDebuggerUrl"], max_message_size=1 << 28)
        self.reader = asyncio.ensure_future(self._read())
        for domain in ("Page", "Runtime", "Log", "Network"):
            await self.send(f"{domain}.enable")
        # Every request pauses here: those for 127.0.0.1 continue, the rest are refused.
        await self.send("Fetch.enable", {"patterns": [{"urlPattern": "*"}]})

    async def _read(self):
        while True:
            message = await self.ws.read_message()
            if message is None:
                return
            data = json.loads(message)
            if "id" in data:
                future = self.pending.pop(data["id"], None)
                if future and not future.done():
                    future.set_result(data)
            elif data.get("method") == "Fetch.requestPaused":
                params = data["params"]
                host = urlparse(params["request"]["url"]).hostname
                if host in ("127.0.0.1", None) or params["request"]["url"].startswith(("data:", "blob:")):
                    asyncio.ensure_future(self.send("Fetch.continueRequest", {"requestId": params["requestId"]}))
                else:
                    self.blocked.append(params["request"]["url"])
                    asyncio.ensure_future(self.send("Fetch.failRequest", {
                        "requestId": params["requestId"], "errorReason": "BlockedByClient"}))
            else:
                self.events.append(data)

    async def send(self, method, params=None):
        self.next_id += 1
        future = asyncio.get_event_loop().create_future()
        self.pending[self.next_id] = future
        self.ws.write_message(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        reply = await asyncio.wait_for(future, 60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def evaluate(self, expression):
        result = await self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                      "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating in the page failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def load(self, url, settle=0.5):
        """Navigate and wait for the load event, then for MathJax and a quiet network."""
        self.events.clear()
        self.blocked.clear()
        await self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + 60
        while not any(e["method"] == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not finish loading in 60 s")
            await asyncio.sleep(0.05)
        await self.evaluate("(async () => { const m = window.MathJax;"
                            " if (m && m.startup && m.startup.promise) await m.startup.promise;"
                            " if (m && m.typesetPromise) await m.typesetPromise(); return true; })()")
        await asyncio.sleep(settle)

    def problems(self):
        """Console errors, exceptions and failed requests since the last load."""
        found = []
        for e in self.events:
            method, p = e["method"], e.get("params", {})
            if method == "Runtime.consoleAPICalled" and p.get("type") == "error":
                found.append("console error: " + " ".join(str(a.get("value", a.get("description", "")))
                                                          for a in p.get("args", []))[:300])
            elif method == "Runtime.exceptionThrown":
                found.append("uncaught exception: " + str(p["exceptionDetails"].get("exception", {})
                                                          .get("description", p["exceptionDetails"]))[:300])
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                found.append(f"browser error: {p['entry'].get('text', '')[:300]} {p['entry'].get('url', '')}")
            elif method == "Network.loadingFailed" and not p.get("canceled"):
                found.append(f"failed request: {p.get('errorText')} (request {p.get('requestId')})")
            elif method == "Network.responseReceived" and p["response"]["status"] >= 400:
                found.append(f"HTTP {p['response']['status']}: {p['response']['url']}")
        found += [f"request leaving localhost (refused): {url}" for url in self.blocked]
        return found

    async def screenshot(self, size, path, mobile=False):
        await self.send("Emulation.setDeviceMetricsOverride", {
            "width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": mobile})
        await asyncio.sleep(0.3)
        shot = await self.send("Page.captureScreenshot", {"format": "png"})
        data = base64.b64decode(shot["data"])
        Path(path).write_bytes(data)
        return data

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_blank(png):
    """Whether a screenshot is (almost) one colour."""
    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(png)).convert("L")
    return ImageStat.Stat(image).stddev[0] < 3.0


# --- what is checked on each page ------------------------------------------------------------

PAGE_REPORT = r"""(() => {
  const report = {};
  const math = [...document.querySelectorAll('.math')];
  report.math = math.length;
  report.math_untypeset = math.filter(m => !m.querySelector('mjx-container')
                                         && m.tagName !== 'MJX-CONTAINER').length;
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, .highlight, mjx-container, mjx-assistive-mml')
       .forEach(n => n.remove());
  const text = clone.textContent || '';   // hidden slides included
  report.raw_math = ['$$', '\\(', '\\['].filter(s => text.includes(s));
  report.images = [...document.querySelectorAll('img')].map(img => {
    const fig = img.closest('figure');
    const caption = fig && fig.querySelector('figcaption') ? fig.querySelector('figcaption').innerText.trim() : '';
    const alt = (img.getAttribute('alt') || '').trim();
    const src = img.getAttribute('src') || '';
    return {src: src, loaded: img.complete && img.naturalWidth > 0,
            alt_ok: (alt.length > 0 && !src.endsWith(alt) && !/\.(png|jpe?g|svg|gif)$/i.test(alt))
                    || caption.length > 0};
  });
  // seqlearn.widgets shows each interactive figure as a captioned static figure in the book
  report.widgets = [...document.querySelectorAll('figure.seqlearn-interactive-figure')]
    .map(f => { const img = f.querySelector('img');
                return !!(img && img.complete && img.naturalWidth > 0); });
  report.colab = [...document.querySelectorAll('a[href*="colab.research.google.com"]')].map(a => a.href);
  report.downloads = [...document.querySelectorAll('a[href$=".ipynb"]')].map(a => a.href);
  report.title = document.title;
  return report;
})()"""


def _repository_url():
    config = (ROOT / "_config.yml").read_text()
    return re.search(r"^\s*url:\s*(https://github\.com/\S+)", config, re.M).group(1).rstrip("/")


def check_page(report, page, site, chapter):
    problems = []
    if report["math_untypeset"]:
        problems.append(f"{report['math_untypeset']} of {report['math']} math elements not typeset")
    if report["raw_math"]:
        problems.append(f"raw math delimiters left in the text: {report['raw_math']}")
    for image in report["images"]:
        if not image["loaded"]:
            problems.append(f"image does not load: {image['src']}")
        elif not image["alt_ok"]:
            problems.append(f"image without alt text or caption: {image['src']}")
    if not all(report["widgets"]):
        problems.append(f"{report['widgets'].count(False)} interactive figure(s) without their static figure")
    if chapter:
        stem = page.stem
        source = ROOT / "book" / f"{stem}.ipynb"
        expected_widgets = source.read_text().count("interactive_figure(") if source.exists() else 0
        if len(report["widgets"]) < expected_widgets:
            problems.append(f"{expected_widgets} interactive figures in the notebook, "
                            f"{len(report['widgets'])} on the page")
        colab = f"https://colab.research.google.com/github/{_repository_url().split('github.com/')[1]}" \
                f"/blob/main/student/book/{stem}.ipynb"
        if colab not in report["colab"]:
            problems.append(f"no Colab button opening {colab} (found {report['colab']})")
        if not (ROOT / "student" / "book" / f"{stem}.ipynb").exists():
            problems.append(f"the Colab button's notebook student/book/{stem}.ipynb does not exist")
        downloads = [d for d in report["downloads"]
                     if d.endswith(f"{stem}.ipynb") and urlparse(d).hostname == "127.0.0.1"]
        if not downloads:
            problems.append("no download button offering the notebook")
        for url in downloads:
            try:
                with urllib.request.urlopen(url, timeout=10) as r:
                    json.loads(r.read())
            except (OSError, ValueError) as err:
                problems.append(f"the download {url} is not a notebook: {err}")
    if chapter and any((ROOT / "lectures").glob(f"{page.stem[:2]}_*.ipynb")) \
            and 'class="seqlearn-deck-link"' not in page.read_text(encoding="utf-8"):
        problems.append("no link to the chapter's lecture slides")
    problems += [f"broken link: {href}" for href in broken_links(site, page)]
    return problems


# Every slide of a deck, shown in turn: those whose content (fragments included) is taller or
# wider than the slide, which reveal.js would cut off at the edge of the screen.
DECK_OVERFLOW = r"""
(async () => {
  const height = Reveal.getConfig().height, width = Reveal.getConfig().width, tall = [];
  for (const slide of Reveal.getSlides()) {
    const at = Reveal.getIndices(slide);
    Reveal.slide(at.h, at.v);
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    // reveal.js leaves a margin of 4% of the slide around it: a few pixels over still show
    if (slide.scrollHeight > height + 16 || slide.scrollWidth > width + 16)
      tall.push(`${at.h + 1}${at.v ? "." + (at.v + 1) : ""} (${slide.scrollWidth}x` +
                `${slide.scrollHeight} px)`);
  }
  Reveal.slide(0, 0);
  return tall;
})()
"""


def check_decks(site):
    """Every deck of ``lectures/`` rendered with as many slides as the notebook has, and its PDF
    handout printed."""
    import nbformat

    from render_decks import deck_summary     # tools/ is on the path when this script runs

    problems = []
    for deck in sorted((ROOT / "lectures").glob("*.ipynb")):
        rendered = site / "slides" / f"{deck.stem}.slides.html"
        if not rendered.exists():
            problems.append(f"{deck.name} is not rendered ({rendered.relative_to(site)} is missing)")
            continue
        nb = nbformat.read(deck, as_version=4)
        expected, _ = deck_summary(nb)
        text = rendered.read_text(encoding="utf-8")
        # a slide with sub-slides is a <section> holding theirs: count the innermost ones
        shown = len(re.findall(r"<section>\n(?!<section>)", text))
        if shown != expected:
            problems.append(f"{rendered.name} shows {shown} slides, {deck.name} has {expected}")
        if not (site / "slides" / f"{deck.stem}.pdf").exists():
            problems.append(f"no PDF handout slides/{deck.stem}.pdf")
    return problems


class _Text(HTMLParser):
    """The visible text of a page (no scripts, styles or attribute values)."""

    def __init__(self):
        super().__init__()
        self.skip, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style") and self.skip > 0

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def word_only_in(target, pages, site):
    """A word of ``target``'s visible text that no other page shows and that the search index
    holds as a term (for the search test)."""
    def words(path):
        parser = _Text()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        return set(re.findall(r"\b[a-z]{6,14}\b", " ".join(parser.parts).lower()))

    index = (site / "searchindex.js").read_text(encoding="utf-8")
    others = set().union(*(words(p) for p in pages if p != target))
    candidates = sorted(w for w in words(target) - others if f'"{w}"' in index)
    if not candidates:
        raise RuntimeError(f"no indexed word occurs only in {target.name}")
    return candidates[len(candidates) // 2]


async def run(site, out, executable, only=None):
    site = Path(site).resolve()
    out.mkdir(parents=True, exist_ok=True)
    chapters = sorted((site / "book").glob("[0-9][0-9]*_*.html"))
    pages = sorted(p for p in site.rglob("*.html")
                   if "_static" not in p.parts and "_sources" not in p.parts
                   and p.name != "search.html" and not p.name.endswith(".slides.html"))
    decks = sorted(site.glob("slides/*.slides.html"))
    if only:
        pages = [p for p in pages if only in p.relative_to(site).as_posix()]
        decks = [p for p in decks if only in p.relative_to(site).as_posix()]
    base, server = serve(site)
    problems, timings = {}, {}
    with tempfile.TemporaryDirectory(prefix="seqlearn-chromium-") as profile:
        browser = Browser(executable, profile)
        try:
            await browser.start()
            for page in pages + decks:
                rel = page.relative_to(site).as_posix()
                start = time.perf_counter()
                await browser.load(urljoin(base, rel))
                report = await browser.evaluate(PAGE_REPORT)
                found = browser.problems() + check_page(report, page, site, page in chapters)
                if page in decks:
                    tall = await browser.evaluate(DECK_OVERFLOW)
                    if tall:
                        found.append(f"{len(tall)} slide(s) larger than the screen ({await browser.evaluate('Reveal.getConfig().width')}x"
                                     f"{await browser.evaluate('Reveal.getConfig().height')}): {', '.join(tall)}")
                if page in chapters or page in decks:
                    for name, size, mobile in (("desktop", DESKTOP, False), ("phone", PHONE, True)):
                        png = await browser.screenshot(size, out / f"{page.stem}-{name}.png", mobile)
                        if is_blank(png):
                            found.append(f"the {name} screenshot is blank")
                    await browser.send("Emulation.clearDeviceMetricsOverride")
                timings[rel] = time.perf_counter() - start
                if found:
                    problems[rel] = found
            if not only:
                found = check_decks(site)
                if found:
                    problems["slides"] = found
            if chapters and not only:
                word = word_only_in(chapters[-1], pages, site)
                await browser.load(urljoin(base, f"search.html?q={word}"), settle=0)
                deadline = time.monotonic() + 20
                hits = []
                while time.monotonic() < deadline and not hits:
                    hits = await browser.evaluate(
                        "[...document.querySelectorAll('#search-results li a')].map(a => a.href)")
                    await asyncio.sleep(0.25)
                if not any(chapters[-1].name in h for h in hits):
                    problems["search.html"] = [f"searching '{word}' (only in {chapters[-1].name}) "
                                               f"found {hits or 'nothing'}"] + browser.problems()
        finally:
            browser.close()
            server.shutdown()
    return pages, decks, problems, timings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", default=str(ROOT / "_build" / "html"))
    parser.add_argument("--out", default=str(ROOT / "_build" / "site-test"))
    parser.add_argument("--only", default=None,
                        help="test only the pages whose path contains this text (while fixing)")
    args = parser.parse_args(argv)
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        print("site-test: Chromium is not installed (Debian: apt-get install chromium); the site "
              "cannot be tested without it", file=sys.stderr)
        return 1
    if not (Path(args.site) / "index.html").exists():
        print(f"site-test: no built site in {args.site}: run `make book` first", file=sys.stderr)
        return 1
    start = time.perf_counter()
    pages, decks, problems, timings = asyncio.run(run(args.site, Path(args.out), executable,
                                                      args.only))
    seconds = time.perf_counter() - start
    for page, found in problems.items():
        print(f"{page}:")
        for problem in found:
            print(f"  - {problem}")
    print(f"site-test: {len(pages)} pages and {len(decks)} slide decks in {seconds:.0f} s; "
          f"screenshots in {args.out}; " +
          (f"{sum(map(len, problems.values()))} problem(s) on {len(problems)} page(s)"
           if problems else "no problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
