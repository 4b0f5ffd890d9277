-- The last snapshot an election's results feed published (none before the first).
select
    version,
    content_sha256,
    chain_sha256
from published_snapshots
where election_id = %(election_id)s
order by version desc
limit 1
