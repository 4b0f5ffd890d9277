-- Receipted ballots not yet counted or rejected, over every election.
select count(*)
from submissions
where settled_at is null and payload is not null
