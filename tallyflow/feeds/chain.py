"""The published results feed: versions, the hash chain over them, and what changed
between two versions (pure; ``tallyflow.feeds.publish`` keeps the snapshots).

A snapshot's content is the results export as canonical JSON (sorted keys, no spaces,
UTF-8). Its ``content_sha256`` is the SHA-256 of those bytes; its ``chain_sha256`` is the
SHA-256 of the ASCII text ``previous_sha256 + content_sha256`` (64 + 64 hex digits), where
``previous_sha256`` is the chain hash of the version before (64 zeros for version 1).
Whoever kept one chain hash can check that nothing published up to it was changed since
(``scripts/verify_feed.py`` recomputes the chain from the public API with Python alone).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from tallyflow.elections.definition import canonical_json

GENESIS = "0" * 64


def content_of(document: Mapping[str, Any]) -> str:
    return canonical_json(document)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def link(previous_sha256: str, content_sha256: str) -> str:
    """The chain hash of a snapshot."""
    return sha256_text(previous_sha256 + content_sha256)


def etag(version: int, content_sha256: str) -> str:
    """The HTTP entity tag of a published version."""
    return f'"v{version}-{content_sha256[:16]}"'


def _pointer(path: list[str]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def json_patch(old: Any, new: Any, path: list | None = None) -> list[dict[str, Any]]:
    """RFC 6902 operations that turn ``old`` into ``new`` (objects key by key, lists of the
    same length item by item; a list whose length changed is replaced whole)."""
    path = path or []
    if isinstance(old, dict) and isinstance(new, dict):
        ops: list[dict[str, Any]] = []
        for key in sorted(old.keys() - new.keys()):
            ops.append({"op": "remove", "path": _pointer([*path, key])})
        for key in sorted(new.keys()):
            if key not in old:
                ops.append({"op": "add", "path": _pointer([*path, key]), "value": new[key]})
            else:
                ops += json_patch(old[key], new[key], [*path, key])
        return ops
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [op for i, (a, b) in enumerate(zip(old, new, strict=True))
                for op in json_patch(a, b, [*path, i])]
    if old == new and type(old) is type(new):
        return []
    return [{"op": "replace", "path": _pointer(path), "value": new}]
