-- 0013: the language of the web UI, a clinic setting (issue 11).
--
-- 'auto' (each browser's own language when the UI has it, else English),
-- 'en' or 'de' (src/domain/language.h). Served and changed by GET/PUT
-- /api/clinic, shown to the patient's rebooking page, and synced with the
-- clinic's other settings (docs/sync.md). Existing clinics get 'auto'.
ALTER TABLE clinic ADD COLUMN language TEXT NOT NULL DEFAULT 'auto'
    CHECK (language IN ('auto', 'en', 'de'));
