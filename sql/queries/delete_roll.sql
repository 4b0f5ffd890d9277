delete from voters
where election_id = %(election_id)s
