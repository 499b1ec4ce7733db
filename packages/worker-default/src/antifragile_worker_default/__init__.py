"""The default-queue worker: hosts all workflows and the database, storage and document activities."""
