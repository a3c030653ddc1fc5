"""A person's name as parts (family and given) and as one line, the one rule for both.

The record keeps the parts the nurse entered (``family_name``, ``given_name``) and the one-line
``name`` every screen shows, made from them here.  A record written before the parts existed had
only the line: :func:`split_name` splits it once (the last word is taken as the family name), and
the patient form asks the nurse to confirm the split.
"""

from __future__ import annotations


def full_name(given: str, family: str) -> str:
    """The name as one line: given name(s) then family name, single spaces."""
    return " ".join(part for part in (" ".join(given.split()), " ".join(family.split())) if part)


def split_name(name: str) -> tuple[str, str]:
    """``(given, family)`` guessed from a one-line name: the last word is the family name.

    Only a first guess for a name entered before the parts existed; the nurse confirms it.
    """
    words = name.split()
    if len(words) < 2:
        return "", " ".join(words)
    return " ".join(words[:-1]), words[-1]
