-- One published snapshot, with its content.
select
    version,
    published_at,
    content,
    content_sha256,
    previous_sha256,
    chain_sha256
from published_snapshots
where election_id = %(election_id)s and version = %(version)s
