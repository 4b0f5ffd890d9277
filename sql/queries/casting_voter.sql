-- Whether a credential is on the election's roll (the casting API answers 403 otherwise and
-- keeps nothing).
select 1
from voters
where election_id = %(election_id)s and credential_sha256 = %(credential_sha256)s
