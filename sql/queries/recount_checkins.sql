-- One slice of an election's check-ins with what turnout needs, as CSV for the recount.
copy (
    select
        checkins.region_id,
        (extract(epoch from checkins.checked_in_at) * 1000000)::bigint as checked_in_micros,
        to_char(voters.birth_date, 'YYYY-MM-DD') as birth_date,
        voters.gender
    from checkins
    inner join voters
        on voters.election_id = checkins.election_id and voters.voter_id = checkins.voter_id
    where
        checkins.election_id = %(election_id)s
        and mod(hashtext(checkins.voter_id) & 2147483647, %(slices)s) = %(slice)s
) to stdout with (format csv)
