-- 0010: staff accounts, their sessions and API tokens (issue 10).
--
-- No row is made here: there is no default account. The first admin comes
-- from `clinicbox user add` or the first-run setup (docs/security.md).
-- Secrets are never stored: passwords as Argon2id strings (libsodium's
-- crypto_pwhash_str), session and API tokens as the hex SHA-256 of the
-- token (256 random bits each, so a plain hash is enough).
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'front_desk', 'doctor')),
    doctor_id TEXT REFERENCES doctors(id),  -- a doctor's own record
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (role <> 'doctor' OR doctor_id IS NOT NULL)
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,                     -- public id (admins list and end sessions by it)
    token_hash TEXT NOT NULL UNIQUE,         -- SHA-256 of the cookie's secret
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,                      -- sent back in X-CSRF-Token
    address TEXT NOT NULL,                   -- where the login came from
    user_agent TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,             -- 12 h absolute limit from here
    last_seen INTEGER NOT NULL               -- 15 min idle limit from here
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'front_desk', 'doctor')),
    doctor_id TEXT REFERENCES doctors(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used INTEGER,
    revoked_at INTEGER,
    CHECK (role <> 'doctor' OR doctor_id IS NOT NULL)
);
