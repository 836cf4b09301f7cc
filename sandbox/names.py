"""Names of the sandbox's resources: how they compare, and the characters they may not hold.

Names are unique per owner after NFKC normalisation and case folding (``name_key``), so
"Promo", "PROMO" and "Ｐｒｏｍｏ" are one name; characters that are invisible or render
unpredictably are refused outright (``refused_character``).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.db import models

# Characters a name may not hold: control (Cc), format (Cf: zero-width, soft hyphen, bidi
# marks), private-use (Co) and surrogate (Cs) code points, and the line and paragraph
# separators. They are invisible or render unpredictably, so two names that differ only by
# them would look alike.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})


def name_key(name: str) -> str:
    """The form names are compared in for uniqueness: NFKC, case folded (then NFKC again,
    as case folding can undo it). "Promo", "PROMO", "Ｐｒｏｍｏ" share one key, and so do a
    name with an accented letter and the same name spelled with a combining accent (NFD)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def refused_character(name: str) -> bool:
    """Whether ``name`` holds a character names may not hold."""
    return any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in name)


class NamedModel(models.Model):
    """A model whose ``name`` is unique per owner by its ``name_key``, kept in step on
    every save (a constraint on ``owner`` and ``name_key`` holds it under concurrency)."""

    name = models.CharField(max_length=100)
    name_key = models.TextField(editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name_key = name_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)
