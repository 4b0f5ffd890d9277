"""What the site tests share: the text a page shows."""

from __future__ import annotations


def page_text(component) -> str:
    """Every text in a Dash component tree, joined by spaces."""
    if isinstance(component, str):
        return component
    children = getattr(component, "children", None)
    if children is None:
        return ""
    if not isinstance(children, list):
        children = [children]
    return " ".join(page_text(child) for child in children)
