-- One slice of an election's stored ballots, as CSV for the recount.
copy (
    select
        region_id,
        coalesce(party_id, '') as party_id,
        vote_method,
        selections::text
    from ballots
    where
        election_id = %(election_id)s
        and mod(get_byte(uuid_send(ballot_id), 15), %(slices)s) = %(slice)s
) to stdout with (format csv)
