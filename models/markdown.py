"""User-written text placed into markdown: Web Chat, Teams and Adaptive Card TextBlocks render
markdown, so a reminder called "**Q3** <b>numbers</b>" would come back bold. Escaped where it is
rendered; plain fallback text keeps it as written."""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def escape_markdown(text: str) -> str:
    """``text`` shown literally by a markdown renderer (CommonMark backslash escapes)."""
    return _SPECIAL.sub(r"\\\1", text)
