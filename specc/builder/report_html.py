"""`report.html`: the build report as one self-contained page.

The page is `report.md` rendered to HTML (Python-Markdown, with tables and fenced code), with
every image the report shows (`curves.png`, ...) inlined as a data URI and the style sheet
inline, so the file opens anywhere, offline, and can be mailed or attached as it is. A short
script marks the page once every image has decoded (`data-images="n/n"` on `<body>`), which is
what the tests read in a headless browser.

Text from the spec (its name and description) reaches the page only through Markdown's escaping
of the report text: raw HTML in the report is escaped, not passed through.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

__all__ = ["render_html"]

_STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2125;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.7rem; border-bottom: 2px solid #d0d7de; padding-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .8rem 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: right; }
th { background: #f6f8fa; }
td:first-child, th:first-child { text-align: left; }
pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; font-size: 13px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; }
img { max-width: 100%; }
"""

_SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var ok = images.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.setAttribute("data-images", ok.length + "/" + images.length);
});
"""

_IMAGE = re.compile(r'<img alt="([^"]*)" src="([^"]+)"')


def _inline_images(page: str, folder: Path) -> str:
    def inline(match: re.Match[str]) -> str:
        alt, src = match.group(1), html.unescape(match.group(2))
        path = folder / src
        if "/" in src or not path.is_file() or path.suffix.lower() != ".png":
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'<img alt="{alt}" src="data:image/png;base64,{data}"'

    return _IMAGE.sub(inline, page)


def render_html(markdown_text: str, folder: Path, title: str) -> str:
    """The HTML page of a report whose images live in `folder`."""
    import markdown

    body = markdown.markdown(
        _escape_raw_html(markdown_text), extensions=["tables", "fenced_code"], output_format="html"
    )
    body = _inline_images(body, folder)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n"
        f"<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _escape_raw_html(text: str) -> str:
    """The report with `<` and `&` outside code escaped, so that no HTML from a spec (a
    description, a class name) becomes markup; the report's own comments (`<!-- ... -->`
    markers of pass sections) are dropped."""
    text = re.sub(r"<!--.*?-->\n?", "", text, flags=re.S)
    out = []
    fenced = False
    for line in text.split("\n"):
        if line.startswith("```"):
            fenced = not fenced
            out.append(line)
            continue
        if fenced:
            out.append(line)
            continue
        parts = line.split("`")
        for i in range(0, len(parts), 2):  # outside inline code spans
            parts[i] = parts[i].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        out.append("`".join(parts))
    return "\n".join(out)
