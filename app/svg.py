"""Building SVG with ElementTree: every text and attribute value is escaped, so charts are safe
to embed in pages and reports whatever names they carry."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"


def svg_root(width: int, height: int, title: str, desc: str, css: str = "chart") -> ET.Element:
    """An ``<svg role="img">`` with a title and a description for screen readers."""
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "viewBox": f"0 0 {width} {height}",
            "width": str(width),
            "height": str(height),
            "role": "img",
            "class": css,
            "preserveAspectRatio": "xMinYMin meet",
        },
    )
    text(svg, title, "title")
    text(svg, desc, "desc")
    return svg


def element(parent: ET.Element, tag: str, /, **attrs: object) -> ET.Element:
    return ET.SubElement(parent, tag, {k: _attr(v) for k, v in attrs.items()})


def text(parent: ET.Element, content: str, tag: str = "text", /, **attrs: object) -> ET.Element:
    """An element holding ``content`` (a ``<text>`` unless ``tag`` says otherwise)."""
    node = element(parent, tag, **attrs)
    node.text = content
    return node


def markup(svg: ET.Element) -> Markup:
    # ElementTree escapes text and attribute values; the result is safe to embed as-is.
    return Markup(ET.tostring(svg, encoding="unicode", short_empty_elements=True))


def _attr(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)
