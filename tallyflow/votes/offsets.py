"""Where the tally stands in the votes topic: the next offset to read, per partition."""

from __future__ import annotations

from collections.abc import Mapping


class Offsets(dict[int, int]):
    """Next offset to read per partition, keyed by the partition's number.

    JSON (the DAG's XComs, the certificate, ``tally_batches``, the Kafka source's options)
    has text keys; :meth:`from_json` and :meth:`to_json` are the only places that convert.
    """

    @classmethod
    def from_json(cls, data: Mapping[str | int, int]) -> Offsets:
        return cls({int(p): int(o) for p, o in data.items()})

    def to_json(self) -> dict[str, int]:
        """Text keys in partition order."""
        return {str(p): int(o) for p, o in sorted(self.items())}
