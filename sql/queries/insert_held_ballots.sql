insert into held_ballots (
    topic, partition, kafka_offset, log_epoch, election_id, voter_id, region_id, age_band,
    gender, party_id, vote_method, judged_at, broker_timestamp, receipt, selections, marks
)
values %s
