-- An election's status, its row locked until the caller's transaction ends: no ballot,
-- check-in or status change can commit for it meanwhile.
select status
from elections
where election_id = %(election_id)s
for update
