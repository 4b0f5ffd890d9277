copy voters (
    election_id,
    voter_id,
    full_name,
    birth_date,
    gender,
    region_id,
    registered_on,
    credential_sha256,
    party_id
)
from stdin with (format csv)
