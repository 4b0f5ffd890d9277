-- The roll fingerprint an election froze when it opened (null before).
select roll_fingerprint
from elections
where election_id = %(election_id)s
