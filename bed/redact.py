"""Secret redaction, used by the console stream and by every report writer.

Secrets are the run's master key plus the value of every environment variable whose name
says it holds a credential. They are replaced by ``***`` wherever they appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.IGNORECASE)
MIN_SECRET_LEN = 6  # shorter values ("1", "true") would shred ordinary text
MASK = "***"
# user:password@ in any URL, whatever the variable it came from
USERINFO = re.compile(r"(?<=://)[^/@\s:]+:[^/@\s]*@")


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *extra: str) -> Redactor:
        found = [v for k, v in environ.items() if SECRET_NAME.search(k)]
        return cls([*found, *extra])

    def add(self, *secrets: str) -> None:
        self._secrets.update(s for s in secrets if s and len(s) >= MIN_SECRET_LEN)
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def copy(self) -> Redactor:
        """Another redactor with the same secrets, for a job that adds its own (a compare leg's key)."""
        return Redactor(self._secrets)

    def __call__(self, text: str) -> str:
        text = USERINFO.sub(MASK + "@", text)
        return self._pattern.sub(MASK, text) if self._pattern else text
