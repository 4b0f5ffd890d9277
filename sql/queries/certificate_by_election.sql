select
    election_id,
    certified_at,
    certificate_sha256,
    canonical_json,
    html
from certificates
where election_id = %(election_id)s
