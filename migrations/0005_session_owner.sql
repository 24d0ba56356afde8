-- Which user a session belongs to, so users can list and revoke their sessions and deleting
-- an account ends its sessions at once.
ALTER TABLE sessions ADD COLUMN user_id UUID REFERENCES users (id) ON DELETE CASCADE;
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE user_id IS NOT NULL;
