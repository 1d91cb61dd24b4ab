"""Readable French summaries (plain text and HTML) for partners and agents."""

from __future__ import annotations

from html import escape
from typing import Any


def digest_text(digest: dict[str, Any]) -> str:
    """The weekly digest of a partner as plain French text."""
    lines = [f"{digest['partner']} — projets à regarder, semaine {digest['week']}", ""]
    if digest["offerings_full"]:
        lines.append("Offres complètes (aucun nouveau projet proposé) : " + ", ".join(digest["offerings_full"]))
        lines.append("")
    if not digest["projects"]:
        lines.append("Aucun nouveau projet cette semaine.")
    for i, m in enumerate(digest["projects"], 1):
        lines.append(f"{i}. {m.label} (score {m.score:.2f})")
        lines.extend(f"   - {r}" for r in m.reasons)
    return "\n".join(lines)


def digest_html(digest: dict[str, Any]) -> str:
    """The weekly digest of a partner as a small standalone HTML page."""
    items = (
        "".join(
            f"<li><strong>{escape(m.label)}</strong> <small>(score {m.score:.2f})</small>"
            f"<ul>{''.join(f'<li>{escape(r)}</li>' for r in m.reasons)}</ul></li>"
            for m in digest["projects"]
        )
        or "<li>Aucun nouveau projet cette semaine.</li>"
    )
    full = (
        f"<p>Offres complètes (aucun nouveau projet proposé) : {escape(', '.join(digest['offerings_full']))}</p>"
        if digest["offerings_full"]
        else ""
    )
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(digest['partner'])} — semaine {escape(digest['week'])}</title></head><body>"
        f"<h1>{escape(digest['partner'])}</h1><p>Projets à regarder, semaine {escape(digest['week'])}</p>"
        f"{full}<ol>{items}</ol></body></html>"
    )
