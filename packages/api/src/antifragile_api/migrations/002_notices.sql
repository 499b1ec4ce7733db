-- Where each participant of an API-started session wants to hear that their turn is open. The link itself
-- is signed afresh for every notice and never stored.
CREATE TABLE IF NOT EXISTS api_notice_targets (
    workflow_id text NOT NULL,
    organization_id text NOT NULL,
    participant text NOT NULL,
    target jsonb NOT NULL,
    PRIMARY KEY (workflow_id, participant)
);
