-- Service tiers: how many sessions a tenant may have, and how many
-- messages and API calls it may make per hour. A NULL limit is
-- unlimited; 0 allows nothing. Admins edit the limits; the names are
-- fixed.
--
-- PostgreSQL form of migrations/sqlite/0008_tiers.sql.

CREATE TABLE tiers (
    name                TEXT PRIMARY KEY,
    -- Listing order.
    position            BIGINT NOT NULL,
    sessions            BIGINT CHECK (sessions IS NULL OR sessions >= 0),
    messages_per_hour   BIGINT CHECK (messages_per_hour IS NULL OR messages_per_hour >= 0),
    api_calls_per_hour  BIGINT CHECK (api_calls_per_hour IS NULL OR api_calls_per_hour >= 0)
);

INSERT INTO tiers (name, position, sessions, messages_per_hour, api_calls_per_hour) VALUES
    ('basic', 1, 1, 100, 1000),
    ('pro', 2, 5, 1000, 10000),
    ('max', 3, 20, 10000, 100000),
    ('unlimited', 4, NULL, NULL, NULL);

-- SQLite only adds a column with a foreign key when its default is NULL,
-- so there a trigger gives a tenant inserted without a tier the unlimited
-- one. PostgreSQL keeps the same shape (no column default) and the same
-- rule, so no tenant is ever without a tier on either database, an
-- explicit NULL included.
ALTER TABLE tenants ADD COLUMN tier TEXT REFERENCES tiers (name);

-- Tenants from before tiers existed (the default tenant among them) keep
-- working as they did: without limits.
UPDATE tenants SET tier = 'unlimited';

-- SQLite's trigger runs AFTER INSERT and updates the new row; here the
-- tier is filled in BEFORE the row is written, with the same outcome
-- (RETURNING then already shows 'unlimited'; the store's
-- COALESCE(tier, 'unlimited') reads the same either way).
CREATE FUNCTION tenants_tier_default() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.tier := 'unlimited';
    RETURN NEW;
END;
$$;

CREATE TRIGGER tenants_tier_default BEFORE INSERT ON tenants
    FOR EACH ROW
    WHEN (NEW.tier IS NULL)
    EXECUTE FUNCTION tenants_tier_default();
