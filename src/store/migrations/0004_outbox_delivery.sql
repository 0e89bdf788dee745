-- 0004: what the outbox needs to deliver messages: the purpose's deadline,
-- the calendar attachment of confirmations, the provider's id for a sent
-- message, the recipient's display name; the clinic's reminder settings.

ALTER TABLE notifications ADD COLUMN recipient_name TEXT;
ALTER TABLE notifications ADD COLUMN attachment TEXT;     -- text/calendar for confirmations
ALTER TABLE notifications ADD COLUMN expires_at INTEGER;  -- not sent at or after this time
ALTER TABLE notifications ADD COLUMN provider_id TEXT;    -- Twilio message sid, email Message-ID

-- The sender of each channel asks for its due messages; /api/health counts
-- the open ones and finds the oldest from this index alone.
DROP INDEX notifications_due;
CREATE INDEX notifications_due ON notifications(channel, status, next_attempt_at, created_at);
-- Reminders are made once per appointment and purpose.
CREATE INDEX notifications_appointment ON notifications(appointment_id, purpose);

-- Hours before an appointment at which reminders go out (JSON array), and
-- whether a booking sends a confirmation.
ALTER TABLE clinic ADD COLUMN reminder_hours TEXT NOT NULL DEFAULT '[24,2]';
ALTER TABLE clinic ADD COLUMN confirmations INTEGER NOT NULL DEFAULT 1;
