"""Personal identity numbers: kept only as a keyed hash (for matching and audits) and a
masked form (for people). The key comes from the environment, never from the repository."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import cache, lru_cache
from pathlib import Path

from xinyong.ids import clean_code, mask_idcard


@cache
def _key() -> bytes:
    configured = os.environ.get("XINYONG_PII_KEY")
    if configured:
        return configured.encode()
    # Development default: a random key kept beside the embedded warehouse, outside git.
    home = Path(os.environ.get("XINYONG_HOME", Path(__file__).resolve().parents[2] / ".xinyong"))
    key_file = home / "pii.key"
    if not key_file.exists():
        home.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip().encode()


@lru_cache(maxsize=1 << 18)
def protect_id_number(raw: str | None) -> tuple[str | None, str | None]:
    """(keyed hash, masked form) of an identity number, or (None, None) when empty."""
    cleaned = clean_code(raw)
    if cleaned is None:
        return None, None
    digest = hmac.new(_key(), cleaned.encode(), hashlib.sha256).hexdigest()
    return digest, mask_idcard(cleaned)
