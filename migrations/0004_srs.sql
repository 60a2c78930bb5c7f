-- SRS generation: the outline template (admin-editable, every save a new
-- version) and what a document was generated from.

CREATE TABLE srs_templates (
    version    INTEGER PRIMARY KEY,
    body       TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    created_by TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

ALTER TABLE srs_documents ADD COLUMN brief TEXT NOT NULL DEFAULT '';
ALTER TABLE srs_documents ADD COLUMN template_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE srs_documents ADD COLUMN current_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE srs_documents ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
ALTER TABLE srs_versions ADD COLUMN created_by TEXT;

CREATE INDEX srs_documents_project ON srs_documents (project_id, id);
