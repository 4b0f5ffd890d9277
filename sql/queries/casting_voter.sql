-- The voter with a credential on the election's roll, by their ballot style: the precinct
-- they vote in and their party (null: none). No row: the credential is not on the roll
-- (the casting API answers 403 and keeps nothing).
select
    region_id,
    party_id
from voters
where election_id = %(election_id)s and credential_sha256 = %(credential_sha256)s
