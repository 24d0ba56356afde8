-- A code or link row is created without its secret; the email job draws the secret when it
-- sends the email and stores only its hash then (see server/src/auth/emails.rs).
ALTER TABLE one_time_codes ALTER COLUMN code_hash DROP NOT NULL;

-- Email jobs queued by earlier versions carry rendered emails with live links and codes in
-- plain text, and the new workers cannot read them: drop them, and end every code and link issued
-- before (users ask for new ones). On a fresh database the queue's tables do not exist yet.
DO $$
BEGIN
    IF to_regclass('apalis.jobs') IS NOT NULL THEN
        DELETE FROM apalis.jobs WHERE job_type = 'email';
        UPDATE one_time_codes SET used_at = now() WHERE used_at IS NULL;
    END IF;
END
$$;
