-- 0009: an offer's rebooking token leaves the message text (issue 9, item 7).
--
-- The token of an offer's link was stored in clear in notifications.body,
-- for skipped rows too, and stayed there forever. Now the body keeps the
-- link with the token replaced by '[redacted]', and the token itself is in
-- link_token only while the message may still be sent: queued, sending,
-- failed, or dead (staff may retry it) while the offer is unused and
-- unexpired. It goes once the message is sent, expired or skipped, and when
-- the offer is used or expires (docs/outbox.md). The sender puts it back into
-- the link in memory.
--
-- Existing rows: the token is the 43 characters after
-- '/rebook/{appointment}?token=' (ids_token: 256 bits, base64url). Rows that
-- still need it keep it in link_token; every body loses it.
ALTER TABLE notifications ADD COLUMN link_token TEXT;

UPDATE notifications SET
    link_token = CASE
        WHEN status IN ('queued', 'sending', 'failed', 'dead')
             AND EXISTS (SELECT 1 FROM offers o WHERE o.id = notifications.offer_id
                         AND o.used_at IS NULL
                         AND o.expires_at > CAST(strftime('%s', 'now') AS INTEGER))
        THEN substr(body, instr(body, '/rebook/' || appointment_id || '?token=')
                          + length('/rebook/' || appointment_id || '?token='), 43)
        END,
    body = replace(body,
                   '/rebook/' || appointment_id || '?token='
                   || substr(body, instr(body, '/rebook/' || appointment_id || '?token=')
                                   + length('/rebook/' || appointment_id || '?token='), 43),
                   '/rebook/' || appointment_id || '?token=[redacted]')
WHERE offer_id IS NOT NULL AND appointment_id IS NOT NULL
  AND instr(body, '/rebook/' || appointment_id || '?token=') > 0;

-- The expiry sweep (no-show worker's tick) finds the rows that still hold a
-- token from this index alone.
CREATE INDEX notifications_link_token ON notifications(expires_at)
    WHERE link_token IS NOT NULL;
