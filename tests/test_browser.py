"""The built book in a real browser: every page of the toc, as a reader meets it.

Serves _build/html from a SUB-PATH of a local server (as GitHub Pages serves /<repo>/) and
blocks every request that leaves this machine (so the site must work offline: MathJax is the
book's own copy), then opens each page in headless Chromium (Debian's `chromium`; `make test`
installs it) and asserts: no console error, all math typeset, every image loaded, every internal
link (and its #anchor) resolves, every figure has alt text, every exercise's solution is collapsed,
no stray object repr under a plot, and the sidebar reaches and numbers every chapter. A screenshot of each page is saved under _build/screenshots/ (JPEG) for people to look at.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import threading
import time
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
SUBPATH = "cnn-course"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STRAY_REPR = re.compile(r"^\s*(\[?<matplotlib\.|Text\(-?[0-9.]+, |<Figure size )", re.M)


def toc_pages() -> list[tuple[str, bool]]:
    """(docname, numbered) for every entry of _toc.yml, in reading order, at any depth."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [(toc["root"], False)]

    def walk(entries: list[dict], numbered: bool) -> None:
        for entry in entries:
            if "file" in entry:
                pages.append((entry["file"], numbered))
            walk(entry.get("sections", []), numbered)

    for part in toc.get("parts", []):
        walk(part.get("chapters", []), bool(part.get("numbered")))
    walk(toc.get("chapters", []), bool(toc.get("numbered")))
    return pages


def chromium_path() -> str | None:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return found if found and Path(found).exists() else None


def _require(condition: bool, what: str, env: str) -> None:
    if not condition:
        if os.environ.get(env):
            pytest.fail(f"{what} (`make test` provides it)")
        pytest.skip(what)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Base URL of the built book, served from a sub-path of a local server."""
    _require((HTML / "index.html").exists(), "the book is not built here (run `make book`)", "CNN_REQUIRE_BOOK")
    _require(chromium_path() is not None, "chromium is not installed (`make chromium` installs Debian's package)",
             "CNN_REQUIRE_BROWSER")
    docroot = tmp_path_factory.mktemp("www")
    (docroot / SUBPATH).symlink_to(HTML, target_is_directory=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(docroot)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/{SUBPATH}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    host = urlparse(site).netloc
    # Offline: anything that is not this server is refused (and then shows as a console error).
    context.route("**/*", lambda route: route.continue_() if urlparse(route.request.url).netloc == host
                  else route.abort())
    pg = context.new_page()
    yield pg
    context.close()


@functools.lru_cache(maxsize=None)
def _fetch(url: str) -> str | None:
    """The page at url, or None if it does not resolve."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.read().decode("utf-8", "replace") if r.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


def _visit(page, url: str, lands_on: str | None = None) -> dict:
    """Open url (which redirects to lands_on, if given), wait for math and images, and return
    what the assertions need."""
    errors: list[str] = []
    on_console = lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
    on_error = lambda exc: errors.append(f"page error: {exc}")
    on_response = lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None
    page.on("console", on_console)
    page.on("pageerror", on_error)
    page.on("response", on_response)
    start = time.perf_counter()
    try:
        page.goto(url, wait_until="load")
        if lands_on:
            page.wait_for_url(lands_on, wait_until="load")
        page.evaluate("""async () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
            const imgs = [...document.images];
            imgs.forEach(img => { img.loading = 'eager'; });
            await Promise.all(imgs.map(img => img.complete ? null : new Promise(r => {
                img.addEventListener('load', r); img.addEventListener('error', r); })));
        }""")
        info = page.evaluate("""() => ({
            mathjax: !!(window.MathJax && MathJax.version),
            math: [...document.querySelectorAll('.math')].map(e => ({
                typeset: !!e.querySelector('mjx-container') || e.tagName.startsWith('MJX'),
                merror: !!e.querySelector('mjx-merror'),
                text: e.textContent.slice(0, 80)})),
            images: [...document.images].map(i => ({src: i.currentSrc || i.src, w: i.naturalWidth,
                                                    alt: i.getAttribute('alt')})),
            links: [...document.querySelectorAll('a[href]')].map(a => a.href),
            outputs: [...document.querySelectorAll('.cell_output')].map(e => e.innerText),
            nav: [...document.querySelectorAll('.bd-sidebar-primary nav a.reference.internal')].map(a => ({
                href: a.href, text: a.textContent.trim()})),
            launch: [...document.querySelectorAll('a[href*="colab.research"], a[href*="mybinder"]')].map(a => a.href),
            download: document.querySelectorAll('.dropdown-download-buttons a, a[href$=".md"][download], \
                a.btn-download-source-button').length,
            solutions: [...document.querySelectorAll('div.solution')].map(e => ({
                dropdown: e.classList.contains('dropdown'),
                shown: [...e.children].filter(c => !c.classList.contains('admonition-title'))
                                      .some(c => c.offsetHeight > 0)})),
            thebe_decl: [...document.scripts].filter(s => s.textContent.includes('const THEBE_JS_URL')).length,
        })""")
        name = urlparse(page.url).path.split(f"/{SUBPATH}/", 1)[1].replace("/", "_").removesuffix(".html")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.jpg"), full_page=True, type="jpeg", quality=70)
    finally:
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_error)
        page.remove_listener("response", on_response)
    info["errors"] = errors
    info["seconds"] = time.perf_counter() - start
    return info


VISITS: dict[str, dict] = {}  # url -> what _visit saw (a page is opened once per run)


def visit(page, url: str) -> dict:
    if url not in VISITS:
        VISITS[url] = _visit(page, url)
    return VISITS[url]


@pytest.mark.parametrize("docname", [d for d, _ in toc_pages()])
def test_page_in_browser(page, site, docname):
    info = visit(page, f"{site}{docname}.html")

    assert not info["errors"], f"{docname}: {info['errors']}"
    assert info["thebe_decl"] <= 1, "sphinx-thebe's configuration script is declared twice"

    if info["math"]:
        assert info["mathjax"], "the page has math but MathJax did not load"
    raw = [m["text"] for m in info["math"] if not m["typeset"]]
    assert not raw, f"{docname}: {len(raw)} formulas left as raw TeX, e.g. {raw[:3]}"
    bad = [m["text"] for m in info["math"] if m["merror"]]
    assert not bad, f"{docname}: MathJax could not typeset {bad[:3]}"

    broken = [i["src"] for i in info["images"] if i["w"] == 0]
    assert not broken, f"{docname}: images that did not load: {broken}"
    no_alt = [i["src"] for i in info["images"] if "/_images/" in i["src"] and not (i["alt"] or "").strip()]
    assert not no_alt, f"{docname}: figures without alt text: {no_alt}"

    opened = [i for i, sol in enumerate(info["solutions"]) if not sol["dropdown"] or sol["shown"]]
    assert not opened, f"{docname}: solutions {opened} are not collapsed (use :class: dropdown)"

    stray = [o[:120] for o in info["outputs"] if STRAY_REPR.search(o)]
    assert not stray, f"{docname}: stray object reprs under plots: {stray}"

    for link in info["links"]:
        target, anchor = urldefrag(link)
        if not target.startswith(site):
            continue  # external links are checked by `jupyter-book build --builder linkcheck`, not here
        html = _fetch(target)
        assert html is not None, f"{docname}: internal link {link} does not resolve"
        if anchor and target.endswith(".html"):
            assert re.search(rf'id="{re.escape(unquote(anchor))}"', html), f"{docname}: link {link}: no #{anchor} there"


def test_toc_reaches_every_chapter_and_numbers_them(page, site):
    root = toc_pages()[0][0]
    info = _visit(page, site, lands_on=f"{site}{root}.html")  # index.html redirects to the root page
    nav = {urldefrag(n["href"])[0].removeprefix(site): n["text"] for n in info["nav"]}
    for docname, numbered in toc_pages()[1:]:
        assert f"{docname}.html" in nav, f"the sidebar does not link {docname}"
        if numbered:
            assert re.match(r"^\d+\.\s", nav[f"{docname}.html"]), f"{docname} is not numbered: {nav[f'{docname}.html']!r}"


def test_launch_and_download_buttons_open_the_student_notebook(page, site):
    info = visit(page, f"{site}book/convolution.html")
    assert info["launch"], "no Binder/Colab launch button"
    for href in info["launch"]:
        assert "cnn-course-student" in href and "book/convolution.ipynb" in href, href
        assert "convolution.md" not in href
    assert info["download"] >= 1, "no download button"
    assert _fetch(f"{site}_sources/book/convolution.ipynb"), "the notebook download is missing"


def test_search_finds_pages(page, site):
    page.goto(f"{site}search.html?q=receptive+field", wait_until="load")
    page.wait_for_selector("#search-results li", timeout=20_000)
    hits = page.eval_on_selector_all("#search-results li a", "els => els.map(a => a.href)")
    assert any("stride_padding" in h for h in hits), hits
