-- The first time the tally sees the topic's id, it is the id of the current epoch.
update consumer_offsets
set topic_id = %(topic_id)s
where topic = %(topic)s and topic_id is null
