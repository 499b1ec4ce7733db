-- Training jobs and the feedback on their models; every row is scoped by organisation.
CREATE TABLE training_jobs (
    job_id          text PRIMARY KEY,
    organization_id text NOT NULL,
    request_id      text NOT NULL,
    workflow_id     text NOT NULL,
    base_model      text NOT NULL,
    run             jsonb NOT NULL,  -- the TrainingWorkflow input: a retried submit starts exactly this run
    status          text NOT NULL,
    parent_job_id   text REFERENCES training_jobs (job_id),
    metrics         jsonb,
    evaluation      jsonb,
    adapter_key     text,
    heldout_key     text,
    error           text,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (organization_id, request_id)
);
CREATE INDEX training_jobs_history ON training_jobs (organization_id, created_at DESC);

CREATE TABLE model_feedback (
    organization_id text NOT NULL,
    feedback_id     text NOT NULL,
    job_id          text NOT NULL REFERENCES training_jobs (job_id),
    prompt          text NOT NULL,
    response        text,
    rating          smallint CHECK (rating BETWEEN 1 AND 5),
    preferred       text,
    rejected        text,
    comment         text,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (organization_id, feedback_id)
);
CREATE INDEX model_feedback_job ON model_feedback (organization_id, job_id);
