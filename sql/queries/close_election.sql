-- An open election closes now: its closing time becomes now if that is earlier.
update elections
set
    status = 'closed',
    closes_at = least(closes_at, now()),
    updated_at = now()
where election_id = %(election_id)s and status = 'open'
returning closes_at
