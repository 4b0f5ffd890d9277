select status
from result_quality
where election_id = %(election_id)s
