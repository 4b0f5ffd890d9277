-- What a certificate says about its election.
select
    election_id,
    title,
    opens_at,
    closes_at,
    is_test,
    definition_sha256,
    roll_fingerprint
from elections
where election_id = %(election_id)s
