-- An election's status and closing time; with lock_election_status, locked for the
-- caller's transaction.
select
    status,
    closes_at
from elections
where election_id = %(election_id)s
