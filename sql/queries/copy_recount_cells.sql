copy recount_cells (election_id, metric, item, value)
from stdin with (format csv)
