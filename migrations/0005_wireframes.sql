-- Wireframe generation: what a wireframe was made from and its current version.

ALTER TABLE wireframes ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE wireframes ADD COLUMN srs_id TEXT REFERENCES srs_documents(id) ON DELETE SET NULL;
ALTER TABLE wireframes ADD COLUMN current_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE wireframes ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
ALTER TABLE wireframe_versions ADD COLUMN created_by TEXT;

CREATE INDEX wireframes_project ON wireframes (project_id, id);
