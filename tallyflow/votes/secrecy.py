"""What the ledger keeps of a rejected event: enough to say why it was refused and to
find it again, never a ballot's selections next to who cast it.

A rejected event is kept (nothing is dropped silently), but its message is kept redacted
(``kept_payload``): the credential is replaced by its SHA-256 (what the roll stores, so an
auditor can still tell whose attempt it was) and the selections are removed. A message
that is not a JSON object (``malformed``) keeps its bytes with every credential-like run
of 32 hex digits removed, so no selection it may hold sits next to a credential.
"""

from __future__ import annotations

import hashlib
import json
import re

CREDENTIAL_LIKE = re.compile(rb"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}(?![0-9A-Fa-f])")
REMOVED_CREDENTIAL = b"[credential removed]"
REMOVED_SELECTIONS = "[removed: a rejected ballot keeps no selections]"


def kept_payload(value: bytes | None) -> bytes | None:
    """The rejected message as the ledger keeps it."""
    if value is None:
        return None
    try:
        event = json.loads(value)
    except (ValueError, UnicodeDecodeError, RecursionError):
        event = None
    if not isinstance(event, dict):
        return CREDENTIAL_LIKE.sub(REMOVED_CREDENTIAL, value)
    kept = {key: item for key, item in event.items() if key not in ("credential", "contests")}
    credential = event.get("credential")
    if isinstance(credential, str):
        kept["credential_sha256"] = hashlib.sha256(credential.encode()).hexdigest()
    elif credential is not None:
        kept["credential"] = "[removed]"
    if "contests" in event:
        kept["contests"] = REMOVED_SELECTIONS
    # A credential under any other name goes too.
    return CREDENTIAL_LIKE.sub(REMOVED_CREDENTIAL, json.dumps(kept, sort_keys=True).encode())
