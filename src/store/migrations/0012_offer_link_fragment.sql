-- 0012: the patient's rebooking link carries its token in the URL fragment
-- (issue 10, item 5).
--
-- The link was {public_url}/rebook/{appointment}?token=...: a query string
-- reaches the web server and its logs, and leaks to other sites in Referer
-- headers. It is now {public_url}/rebook#...: browsers never send a
-- fragment to a server nor put it in Referer, and the token alone names the
-- offer (looked up by its SHA-256). The offers' messages still waiting keep
-- the link with the token redacted (0009); they get the new form here, so
-- that the sender puts the token back after '#'. Sent messages get it too:
-- the stored text says what the patient would get now.
UPDATE notifications
SET body = replace(body, '/rebook/' || appointment_id || '?token=[redacted]',
                   '/rebook#[redacted]')
WHERE offer_id IS NOT NULL AND appointment_id IS NOT NULL
  AND instr(body, '/rebook/' || appointment_id || '?token=[redacted]') > 0;
