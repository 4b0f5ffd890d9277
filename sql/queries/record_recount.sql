insert into recounts (election_id, recounted_at, ballots, checkins, seconds)
values (%(election_id)s, now(), %(ballots)s, %(checkins)s, %(seconds)s)
on conflict (election_id) do update set
    recounted_at = excluded.recounted_at,
    ballots = excluded.ballots,
    checkins = excluded.checkins,
    seconds = excluded.seconds
