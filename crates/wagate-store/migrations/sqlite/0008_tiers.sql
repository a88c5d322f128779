-- Service tiers: how many sessions a tenant may have, and how many
-- messages and API calls it may make per hour. A NULL limit is
-- unlimited; 0 allows nothing. Admins edit the limits; the names are
-- fixed.

CREATE TABLE tiers (
    name                TEXT PRIMARY KEY,
    -- Listing order.
    position            INTEGER NOT NULL,
    sessions            INTEGER CHECK (sessions IS NULL OR sessions >= 0),
    messages_per_hour   INTEGER CHECK (messages_per_hour IS NULL OR messages_per_hour >= 0),
    api_calls_per_hour  INTEGER CHECK (api_calls_per_hour IS NULL OR api_calls_per_hour >= 0)
);

INSERT INTO tiers (name, position, sessions, messages_per_hour, api_calls_per_hour) VALUES
    ('basic', 1, 1, 100, 1000),
    ('pro', 2, 5, 1000, 10000),
    ('max', 3, 20, 10000, 100000),
    ('unlimited', 4, NULL, NULL, NULL);

-- SQLite only adds a column with a foreign key when its default is NULL;
-- the trigger gives a tenant inserted without a tier the unlimited one,
-- so no tenant is ever without a tier.
ALTER TABLE tenants ADD COLUMN tier TEXT REFERENCES tiers (name);

-- Tenants from before tiers existed (the default tenant among them) keep
-- working as they did: without limits.
UPDATE tenants SET tier = 'unlimited';

CREATE TRIGGER tenants_tier_default AFTER INSERT ON tenants
    WHEN NEW.tier IS NULL
BEGIN
    UPDATE tenants SET tier = 'unlimited' WHERE id = NEW.id;
END;
