-- An election's previous recount cells, before a recount stores its own.
delete from recount_cells
where election_id = %(election_id)s
