"""Sphinx extension for the course's site: two fixes at their cause, in one place.

1. A duplicated inline script. sphinx-thebe registers its configuration script
   (``const THEBE_JS_URL = ...``) with ``app.add_js_file(None, body=...)`` in
   ``env-before-read-docs``, after the HTML builder was initialised. Sphinx 7.4 hands the asset
   to the builder at once (filename ``None``) and again when it prepares writing, from its
   registry of late assets (filename ``''``); ``None != ''``, so the builder keeps both and every
   page declares the ``const`` twice: "Identifier 'THEBE_JS_URL' has already been declared".
   We drop the builder's early copy of each body-only script that is also in the registry, so
   the registry's copy is the only one.

2. Launch buttons that open the student distribution. The chapters are MyST markdown here;
   the student distribution (``python -m cnngrader student-dist``) holds the same chapters as
   ``book/<chapter>.ipynb``. sphinx-book-theme builds Binder/JupyterHub/Colab links with the
   source's suffix (``.md``, which Colab cannot open); we point them at the ``.ipynb``.
"""
from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _drop_early_body_scripts(app: Sphinx, env: Any, docnames: list[str]) -> None:
    js_files = getattr(app.builder, "_js_files", None)
    if js_files is None:  # not an HTML builder
        return
    late_bodies = {attrs.get("body") for name, attrs in app.registry.js_files if not name and attrs.get("body")}
    js_files[:] = [js for js in js_files if not (js.filename is None and js.attributes.get("body") in late_bodies)]


def _retarget(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_retarget(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: (_retarget(v, old, new) if k in ("url", "buttons") else v) for k, v in value.items()}
    return value


def _launch_ipynb(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    buttons = context.get("header_buttons")
    if not buttons or not str(app.env.doc2path(pagename, base=False)).endswith(".md"):
        return
    for group in buttons:
        if isinstance(group, dict) and group.get("label") == "launch-buttons":
            group["buttons"] = _retarget(group["buttons"], f"{pagename}.md", f"{pagename}.ipynb")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("env-before-read-docs", _drop_early_body_scripts, priority=900)  # after sphinx-thebe (500)
    app.connect("html-page-context", _launch_ipynb, priority=900)  # after sphinx-book-theme's buttons
    return {"parallel_read_safe": True, "parallel_write_safe": True}
