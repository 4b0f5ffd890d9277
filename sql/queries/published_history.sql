-- Every snapshot an election's results feed published, oldest first, without content.
select
    version,
    published_at,
    content_sha256,
    previous_sha256,
    chain_sha256
from published_snapshots
where election_id = %(election_id)s
order by version
