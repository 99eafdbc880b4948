-- revision 0013
-- written by python -m casebook.storage.memory
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE casebook_meta (
	name TEXT NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE orgs (
	id TEXT NOT NULL, 
	name TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
CREATE TABLE api_keys (
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	key_hash TEXT NOT NULL, 
	hint TEXT NOT NULL, 
	created_by TEXT, 
	created_at BIGINT NOT NULL, 
	revoked_at BIGINT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(org_id) REFERENCES orgs (id), 
	UNIQUE (key_hash)
);
CREATE TABLE users (
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	email TEXT NOT NULL, 
	handle TEXT NOT NULL, 
	name TEXT, 
	title TEXT, 
	status TEXT NOT NULL, 
	is_admin INTEGER NOT NULL, 
	service_account INTEGER NOT NULL, 
	created_at BIGINT NOT NULL, 
	modified_at BIGINT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(org_id) REFERENCES orgs (id), 
	CONSTRAINT uq_users_org_email UNIQUE (org_id, email)
);
CREATE TABLE app_keys (
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	user_id TEXT NOT NULL, 
	key_hash TEXT NOT NULL, 
	hint TEXT NOT NULL, 
	scopes TEXT, 
	created_at BIGINT NOT NULL, 
	revoked_at BIGINT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(org_id) REFERENCES orgs (id), 
	FOREIGN KEY(user_id) REFERENCES users (id), 
	UNIQUE (key_hash)
);
CREATE TABLE cases (
	seq INTEGER NOT NULL, 
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	project_id TEXT NOT NULL, 
	number BIGINT NOT NULL, 
	"key" TEXT NOT NULL, 
	title TEXT NOT NULL, 
	description TEXT NOT NULL, 
	priority TEXT NOT NULL, 
	priority_rank INTEGER NOT NULL, 
	status TEXT NOT NULL, 
	type_id TEXT NOT NULL, 
	attributes TEXT NOT NULL, 
	custom_attributes TEXT NOT NULL, 
	creation_source TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	created_by TEXT, 
	modified_at BIGINT, 
	modified_by TEXT, 
	closed_at BIGINT, 
	archived_at BIGINT, 
	assignee_id TEXT, due_date BIGINT, resolved_reason TEXT, comment_count INTEGER DEFAULT 0 NOT NULL, insights TEXT DEFAULT '[]' NOT NULL, version BIGINT DEFAULT 1 NOT NULL, status_name TEXT, jira_issue TEXT, service_now_ticket TEXT, 
	PRIMARY KEY (seq), 
	FOREIGN KEY(org_id) REFERENCES orgs (id), 
	FOREIGN KEY(project_id) REFERENCES projects (id), 
	UNIQUE (id), 
	CONSTRAINT uq_cases_org_key UNIQUE (org_id, "key"), 
	CONSTRAINT uq_cases_project_number UNIQUE (project_id, number)
);
CREATE TABLE case_events (
	seq INTEGER NOT NULL, 
	case_id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	actor_id TEXT, 
	at BIGINT NOT NULL, 
	field TEXT NOT NULL, 
	old_value TEXT, 
	new_value TEXT, 
	PRIMARY KEY (seq), 
	FOREIGN KEY(case_id) REFERENCES cases (id)
);
CREATE VIRTUAL TABLE cases_fts USING fts5(
        title, description, content='cases', content_rowid='seq',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TABLE case_attributes (
	case_seq BIGINT NOT NULL, 
	org_id TEXT NOT NULL, 
	"key" TEXT NOT NULL, 
	value TEXT
);
CREATE TABLE case_comments (
	seq INTEGER NOT NULL, 
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	case_id TEXT NOT NULL, 
	case_seq BIGINT NOT NULL, 
	author_id TEXT, 
	body TEXT, 
	created_at BIGINT NOT NULL, 
	modified_at BIGINT, 
	deleted_at BIGINT, 
	PRIMARY KEY (seq), 
	FOREIGN KEY(case_id) REFERENCES cases (id), 
	UNIQUE (id)
);
CREATE TABLE case_watchers (
	case_id TEXT NOT NULL, 
	user_id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	case_seq BIGINT NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (case_id, user_id), 
	FOREIGN KEY(case_id) REFERENCES cases (id), 
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE TABLE case_links (
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	parent_id TEXT NOT NULL, 
	child_id TEXT NOT NULL, 
	relationship TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	created_by TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(child_id) REFERENCES cases (id), 
	FOREIGN KEY(parent_id) REFERENCES cases (id), 
	CONSTRAINT uq_case_links_pair UNIQUE (parent_id, child_id, relationship)
);
CREATE TABLE case_key_aliases (
	org_id TEXT NOT NULL, 
	"key" TEXT NOT NULL, 
	case_id TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (org_id, "key"), 
	FOREIGN KEY(case_id) REFERENCES cases (id)
);
CREATE VIRTUAL TABLE case_comments_fts USING fts5(
        body, content='case_comments', content_rowid='seq',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TABLE case_types (
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	name TEXT NOT NULL, 
	description TEXT NOT NULL, 
	emoji TEXT NOT NULL, 
	statuses TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	modified_at BIGINT, 
	deleted_at BIGINT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(org_id) REFERENCES orgs (id)
);
CREATE TABLE custom_attribute_configs (
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	type_id TEXT NOT NULL, 
	"key" TEXT NOT NULL, 
	display_name TEXT NOT NULL, 
	description TEXT NOT NULL, 
	type TEXT NOT NULL, 
	is_multi INTEGER NOT NULL, 
	options TEXT NOT NULL, 
	map_from TEXT, 
	created_at BIGINT NOT NULL, 
	modified_at BIGINT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(org_id) REFERENCES orgs (id), 
	CONSTRAINT uq_custom_attribute_configs_key UNIQUE (org_id, type_id, "key")
);
CREATE TABLE case_custom_values (
	case_seq BIGINT NOT NULL, 
	org_id TEXT NOT NULL, 
	"key" TEXT NOT NULL, 
	value TEXT, 
	num FLOAT
);
CREATE TABLE case_views (
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	project_id TEXT NOT NULL, 
	name TEXT NOT NULL, 
	"query" TEXT NOT NULL, 
	np_rule_id TEXT, 
	created_at BIGINT NOT NULL, 
	created_by TEXT, 
	modified_at BIGINT, 
	modified_by TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(org_id) REFERENCES orgs (id), 
	FOREIGN KEY(project_id) REFERENCES projects (id)
);
CREATE TABLE project_favorites (
	org_id TEXT NOT NULL, 
	user_id TEXT NOT NULL, 
	project_id TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	PRIMARY KEY (user_id, project_id), 
	FOREIGN KEY(org_id) REFERENCES orgs (id), 
	FOREIGN KEY(project_id) REFERENCES projects (id), 
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE TABLE "projects" (
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	"key" TEXT NOT NULL, 
	name TEXT NOT NULL, 
	last_case_number BIGINT NOT NULL, 
	enabled_custom_case_types TEXT NOT NULL, 
	team_uuid TEXT, 
	created_at BIGINT NOT NULL, 
	created_by TEXT, 
	deleted_at BIGINT, 
	deleted_by TEXT, 
	settings TEXT, 
	columns_config TEXT, 
	modified_at BIGINT, 
	modified_by TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(org_id) REFERENCES orgs (id)
);
CREATE TABLE case_outbox (
	seq INTEGER NOT NULL, 
	org_id TEXT NOT NULL, 
	case_id TEXT NOT NULL, 
	actor_id TEXT, 
	at BIGINT NOT NULL, 
	changes TEXT NOT NULL, 
	depth INTEGER DEFAULT 0 NOT NULL, 
	PRIMARY KEY (seq)
);
CREATE TABLE deliveries (
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	project_id TEXT NOT NULL, 
	case_id TEXT NOT NULL, 
	rule_id TEXT, 
	channel TEXT NOT NULL, 
	target TEXT NOT NULL, 
	body TEXT NOT NULL, 
	state TEXT NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_attempt_at BIGINT, 
	last_error TEXT, 
	created_at BIGINT NOT NULL, 
	delivered_at BIGINT, 
	PRIMARY KEY (id)
);
CREATE TABLE leases (
	name TEXT NOT NULL, 
	holder TEXT NOT NULL, 
	expires_at BIGINT NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE delivery_attempts (
	delivery_id TEXT NOT NULL, 
	attempt INTEGER NOT NULL, 
	at BIGINT NOT NULL, 
	status INTEGER, 
	error TEXT, 
	duration_ms INTEGER NOT NULL, 
	PRIMARY KEY (delivery_id, attempt), 
	FOREIGN KEY(delivery_id) REFERENCES deliveries (id)
);
CREATE TABLE webhooks (
	org_id TEXT NOT NULL, 
	name TEXT NOT NULL, 
	url TEXT NOT NULL, 
	payload TEXT, 
	custom_headers TEXT, 
	encode_as TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	modified_at BIGINT, 
	PRIMARY KEY (org_id, name), 
	FOREIGN KEY(org_id) REFERENCES orgs (id)
);
CREATE TABLE integration_connections (
	org_id TEXT NOT NULL, 
	system TEXT NOT NULL, 
	url TEXT NOT NULL, 
	instance TEXT NOT NULL, 
	username TEXT NOT NULL, 
	secret TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	modified_at BIGINT NOT NULL, 
	PRIMARY KEY (org_id, system), 
	FOREIGN KEY(org_id) REFERENCES orgs (id)
);
CREATE TABLE notification_rules (
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	project_id TEXT NOT NULL, 
	is_enabled INTEGER NOT NULL, 
	"query" TEXT NOT NULL, 
	triggers TEXT NOT NULL, 
	recipients TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	created_by TEXT, 
	modified_at BIGINT, 
	modified_by TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(org_id) REFERENCES orgs (id), 
	FOREIGN KEY(project_id) REFERENCES projects (id)
);
CREATE TABLE automation_rules (
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	project_id TEXT NOT NULL, 
	name TEXT NOT NULL, 
	is_enabled INTEGER NOT NULL, 
	"trigger" TEXT NOT NULL, 
	action TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	created_by TEXT, 
	modified_at BIGINT, 
	modified_by TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(org_id) REFERENCES orgs (id), 
	FOREIGN KEY(project_id) REFERENCES projects (id)
);
CREATE TABLE maintenance_windows (
	id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	name TEXT NOT NULL, 
	"query" TEXT NOT NULL, 
	start_at BIGINT NOT NULL, 
	end_at BIGINT NOT NULL, 
	created_at BIGINT NOT NULL, 
	created_by TEXT, 
	modified_at BIGINT, 
	modified_by TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(org_id) REFERENCES orgs (id)
);
CREATE TABLE case_tallies (
	id INTEGER NOT NULL, 
	bucket TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	project_id TEXT NOT NULL, 
	type_id TEXT NOT NULL, 
	status TEXT NOT NULL, 
	status_name TEXT, 
	priority_rank INTEGER NOT NULL, 
	assignee_id TEXT, 
	archived_at INTEGER, 
	n BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE case_tally_deltas (
	id INTEGER NOT NULL, 
	org_id TEXT NOT NULL, 
	project_id TEXT NOT NULL, 
	type_id TEXT NOT NULL, 
	status TEXT NOT NULL, 
	status_name TEXT, 
	priority_rank INTEGER NOT NULL, 
	assignee_id TEXT, 
	archived_at INTEGER, 
	n BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE case_value_tallies (
	id INTEGER NOT NULL, 
	bucket TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	project_id TEXT NOT NULL, 
	type_id TEXT NOT NULL, 
	status TEXT NOT NULL, 
	status_name TEXT, 
	priority_rank INTEGER NOT NULL, 
	archived_at INTEGER, 
	source TEXT NOT NULL, 
	"key" TEXT NOT NULL, 
	value TEXT, 
	num FLOAT, 
	n BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE case_value_deltas (
	id INTEGER NOT NULL, 
	org_id TEXT NOT NULL, 
	project_id TEXT NOT NULL, 
	type_id TEXT NOT NULL, 
	status TEXT NOT NULL, 
	status_name TEXT, 
	priority_rank INTEGER NOT NULL, 
	archived_at INTEGER, 
	source TEXT NOT NULL, 
	"key" TEXT NOT NULL, 
	value TEXT, 
	num FLOAT, 
	n BIGINT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE user_passwords (
	user_id TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	hash TEXT NOT NULL, 
	changed_at BIGINT NOT NULL, 
	PRIMARY KEY (user_id), 
	FOREIGN KEY(org_id) REFERENCES orgs (id), 
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE TABLE ui_sessions (
	token_hash TEXT NOT NULL, 
	org_id TEXT NOT NULL, 
	user_id TEXT NOT NULL, 
	csrf TEXT NOT NULL, 
	created_at BIGINT NOT NULL, 
	seen_at BIGINT NOT NULL, 
	PRIMARY KEY (token_hash), 
	FOREIGN KEY(org_id) REFERENCES orgs (id), 
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE INDEX ix_cases_org_assignee ON cases (org_id, assignee_id);
CREATE INDEX ix_cases_org_created ON cases (org_id, created_at);
CREATE INDEX ix_cases_org_status_created ON cases (org_id, status, created_at);
CREATE INDEX ix_cases_project_created ON cases (project_id, created_at);
CREATE INDEX ix_case_events_case ON case_events (case_id, seq);
CREATE INDEX ix_cases_live_created ON cases (org_id, created_at, seq) WHERE archived_at IS NULL;
CREATE INDEX ix_cases_live_assignee ON cases (org_id, assignee_id, created_at, seq, status, priority_rank) WHERE archived_at IS NULL;
CREATE INDEX ix_cases_live_project ON cases (org_id, project_id, created_at, seq, status, priority_rank) WHERE archived_at IS NULL;
CREATE INDEX ix_cases_archived_created ON cases (org_id, created_at, seq) WHERE archived_at IS NOT NULL;
CREATE INDEX ix_case_attributes_lookup ON case_attributes (org_id, "key", value, case_seq);
CREATE INDEX ix_case_attributes_case ON case_attributes (case_seq, "key", value);
CREATE INDEX ix_case_comments_case ON case_comments (case_id, seq);
CREATE INDEX ix_case_watchers_user ON case_watchers (org_id, user_id, case_seq);
CREATE INDEX ix_case_links_child ON case_links (child_id);
CREATE INDEX ix_cases_live_type ON cases (org_id, type_id, created_at, seq, status, priority_rank, project_id) WHERE archived_at IS NULL AND type_id <> '00000000-0000-0000-0000-000000000001';
CREATE INDEX ix_cases_live_status_name ON cases (org_id, status_name, created_at, seq) WHERE archived_at IS NULL AND status_name IS NOT NULL;
CREATE INDEX ix_cases_live_status ON cases (org_id, status DESC, created_at, seq, priority_rank, project_id) WHERE archived_at IS NULL;
CREATE INDEX ix_cases_live_priority ON cases (org_id, priority_rank, created_at, seq, status, project_id) WHERE archived_at IS NULL;
CREATE INDEX ix_case_types_org ON case_types (org_id);
CREATE INDEX ix_custom_attribute_configs_key ON custom_attribute_configs (org_id, "key");
CREATE INDEX ix_case_custom_values_lookup ON case_custom_values (org_id, "key", value, case_seq);
CREATE INDEX ix_case_custom_values_number ON case_custom_values (org_id, "key", num, case_seq) WHERE num IS NOT NULL;
CREATE INDEX ix_case_custom_values_case ON case_custom_values (case_seq, "key", value);
CREATE INDEX ix_case_views_project ON case_views (org_id, project_id, created_at);
CREATE INDEX ix_projects_org_key ON projects (org_id, "key");
CREATE UNIQUE INDEX uq_projects_org_key_live ON projects (org_id, "key") WHERE deleted_at IS NULL;
CREATE INDEX ix_deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX ix_deliveries_project ON deliveries (org_id, project_id, created_at);
CREATE INDEX ix_notification_rules_project ON notification_rules (org_id, project_id, created_at);
CREATE INDEX ix_automation_rules_project ON automation_rules (org_id, project_id, created_at);
CREATE INDEX ix_maintenance_windows_end ON maintenance_windows (org_id, end_at);
CREATE UNIQUE INDEX ux_case_tallies_bucket ON case_tallies (bucket);
CREATE INDEX ix_case_tallies_org ON case_tallies (org_id, status, priority_rank, project_id, type_id, status_name, assignee_id, archived_at, n);
CREATE UNIQUE INDEX ux_case_value_tallies_bucket ON case_value_tallies (bucket);
CREATE INDEX ix_case_value_tallies_value ON case_value_tallies (org_id, "key", source, value, num, status, priority_rank, project_id, type_id, status_name, archived_at, n);
CREATE INDEX ix_cases_open_project ON cases (org_id, project_id, created_at, seq) WHERE archived_at IS NULL AND status <> 'CLOSED';
CREATE INDEX ix_ui_sessions_user ON ui_sessions (user_id);
CREATE TRIGGER cases_fts_ai AFTER INSERT ON cases BEGIN
        INSERT INTO cases_fts(rowid, title, description)
        VALUES (new.seq, new.title, new.description);
    END;
CREATE TRIGGER cases_fts_ad AFTER DELETE ON cases BEGIN
        INSERT INTO cases_fts(cases_fts, rowid, title, description)
        VALUES ('delete', old.seq, old.title, old.description);
    END;
CREATE TRIGGER cases_fts_au AFTER UPDATE OF title, description ON cases BEGIN
        INSERT INTO cases_fts(cases_fts, rowid, title, description)
        VALUES ('delete', old.seq, old.title, old.description);
        INSERT INTO cases_fts(rowid, title, description)
        VALUES (new.seq, new.title, new.description);
    END;
CREATE TRIGGER case_attributes_ai AFTER INSERT ON cases BEGIN
        INSERT INTO case_attributes (case_seq, org_id, key, value)
    SELECT new.seq, new.org_id, a.key, lower(e.value)
    FROM json_each(CASE WHEN json_valid(new.attributes)
                        THEN CASE json_type(new.attributes) WHEN 'object' THEN new.attributes END END) AS a,
         json_each(CASE a.type WHEN 'array' THEN a.value ELSE json_array(a.value) END) AS e;
    END;
CREATE TRIGGER case_attributes_au AFTER UPDATE OF attributes ON cases BEGIN
        DELETE FROM case_attributes WHERE case_seq = old.seq;
        INSERT INTO case_attributes (case_seq, org_id, key, value)
    SELECT new.seq, new.org_id, a.key, lower(e.value)
    FROM json_each(CASE WHEN json_valid(new.attributes)
                        THEN CASE json_type(new.attributes) WHEN 'object' THEN new.attributes END END) AS a,
         json_each(CASE a.type WHEN 'array' THEN a.value ELSE json_array(a.value) END) AS e;
    END;
CREATE TRIGGER case_attributes_ad AFTER DELETE ON cases BEGIN
        DELETE FROM case_attributes WHERE case_seq = old.seq;
    END;
CREATE TRIGGER case_comments_fts_ai AFTER INSERT ON case_comments BEGIN
        INSERT INTO case_comments_fts(rowid, body)
        VALUES (new.seq, CASE WHEN new.deleted_at IS NULL THEN new.body END);
    END;
CREATE TRIGGER case_comments_fts_ad AFTER DELETE ON case_comments BEGIN
        INSERT INTO case_comments_fts(case_comments_fts, rowid, body)
        VALUES ('delete', old.seq, CASE WHEN old.deleted_at IS NULL THEN old.body END);
    END;
CREATE TRIGGER case_comments_fts_au AFTER UPDATE OF body, deleted_at ON case_comments
    BEGIN
        INSERT INTO case_comments_fts(case_comments_fts, rowid, body)
        VALUES ('delete', old.seq, CASE WHEN old.deleted_at IS NULL THEN old.body END);
        INSERT INTO case_comments_fts(rowid, body)
        VALUES (new.seq, CASE WHEN new.deleted_at IS NULL THEN new.body END);
    END;
CREATE TRIGGER case_custom_values_ai AFTER INSERT ON cases
        WHEN new.custom_attributes <> '{}' BEGIN
        INSERT INTO case_custom_values (case_seq, org_id, key, value, num)
    SELECT new.seq, new.org_id, a.key,
           CASE WHEN e.type IN ('integer', 'real') THEN NULL ELSE lower(e.value) END,
           CASE WHEN e.type IN ('integer', 'real') THEN e.value END
    FROM json_each(CASE WHEN json_valid(new.custom_attributes)
                        THEN CASE json_type(new.custom_attributes) WHEN 'object' THEN new.custom_attributes END END) AS a,
         json_each(CASE json_type(a.value, '$.value')
                   WHEN 'array' THEN json_extract(a.value, '$.value')
                   ELSE json_array(json_extract(a.value, '$.value')) END) AS e
    WHERE a.type = 'object';
    END;
CREATE TRIGGER case_custom_values_au AFTER UPDATE OF custom_attributes ON cases BEGIN
        DELETE FROM case_custom_values WHERE case_seq = old.seq;
        INSERT INTO case_custom_values (case_seq, org_id, key, value, num)
    SELECT new.seq, new.org_id, a.key,
           CASE WHEN e.type IN ('integer', 'real') THEN NULL ELSE lower(e.value) END,
           CASE WHEN e.type IN ('integer', 'real') THEN e.value END
    FROM json_each(CASE WHEN json_valid(new.custom_attributes)
                        THEN CASE json_type(new.custom_attributes) WHEN 'object' THEN new.custom_attributes END END) AS a,
         json_each(CASE json_type(a.value, '$.value')
                   WHEN 'array' THEN json_extract(a.value, '$.value')
                   ELSE json_array(json_extract(a.value, '$.value')) END) AS e
    WHERE a.type = 'object';
    END;
CREATE TRIGGER case_custom_values_ad AFTER DELETE ON cases BEGIN
        DELETE FROM case_custom_values WHERE case_seq = old.seq;
    END;
CREATE TRIGGER case_tallies_ai AFTER INSERT ON cases BEGIN
        INSERT INTO case_tally_deltas (org_id, project_id, type_id, status, status_name, priority_rank, assignee_id, archived_at, n) VALUES (new.org_id, new.project_id, new.type_id, new.status, new.status_name, new.priority_rank, new.assignee_id, CASE WHEN new.archived_at IS NULL THEN NULL ELSE 1 END, 1);
    END;
CREATE TRIGGER case_tallies_au AFTER UPDATE OF org_id, project_id, type_id, status, status_name, priority_rank, assignee_id, archived_at ON cases
        WHEN old.org_id IS NOT new.org_id OR old.project_id IS NOT new.project_id OR old.type_id IS NOT new.type_id OR old.status IS NOT new.status OR old.status_name IS NOT new.status_name OR old.priority_rank IS NOT new.priority_rank OR old.assignee_id IS NOT new.assignee_id OR (old.archived_at IS NULL) <> (new.archived_at IS NULL) BEGIN
        INSERT INTO case_tally_deltas (org_id, project_id, type_id, status, status_name, priority_rank, assignee_id, archived_at, n) VALUES (old.org_id, old.project_id, old.type_id, old.status, old.status_name, old.priority_rank, old.assignee_id, CASE WHEN old.archived_at IS NULL THEN NULL ELSE 1 END, -1), (new.org_id, new.project_id, new.type_id, new.status, new.status_name, new.priority_rank, new.assignee_id, CASE WHEN new.archived_at IS NULL THEN NULL ELSE 1 END, 1);
    END;
CREATE TRIGGER case_tallies_ad AFTER DELETE ON cases BEGIN
        INSERT INTO case_tally_deltas (org_id, project_id, type_id, status, status_name, priority_rank, assignee_id, archived_at, n) VALUES (old.org_id, old.project_id, old.type_id, old.status, old.status_name, old.priority_rank, old.assignee_id, CASE WHEN old.archived_at IS NULL THEN NULL ELSE 1 END, -1);
    END;
CREATE TRIGGER case_value_tallies_ai AFTER INSERT ON cases BEGIN
        INSERT INTO case_value_deltas (org_id, project_id, type_id, status, status_name, priority_rank, archived_at, source, key, value, num, n) SELECT new.org_id, new.project_id, new.type_id, new.status, new.status_name, new.priority_rank, CASE WHEN new.archived_at IS NULL THEN NULL ELSE 1 END, v.source, v.key, v.value, v.num, 1 FROM (
    SELECT DISTINCT 'a' AS source, a.key AS key, coalesce(lower(e.value), '') AS value,
        NULL AS num FROM json_each(CASE WHEN json_valid(new.attributes)
        THEN CASE json_type(new.attributes) WHEN 'object' THEN new.attributes END END) AS a,
    json_each(CASE a.type WHEN 'array' THEN a.value ELSE json_array(a.value) END) AS e
    UNION ALL SELECT DISTINCT 'A', a.key, NULL, NULL FROM json_each(CASE WHEN json_valid(new.attributes)
        THEN CASE json_type(new.attributes) WHEN 'object' THEN new.attributes END END) AS a,
    json_each(CASE a.type WHEN 'array' THEN a.value ELSE json_array(a.value) END) AS e
    UNION ALL SELECT DISTINCT 'c', a.key,
        CASE WHEN e.type IN ('integer', 'real') THEN '' ELSE coalesce(lower(e.value), '') END,
        CASE WHEN e.type IN ('integer', 'real') THEN e.value END FROM json_each(CASE WHEN json_valid(new.custom_attributes)
        THEN CASE json_type(new.custom_attributes) WHEN 'object'
        THEN new.custom_attributes END END) AS a,
    json_each(CASE json_type(a.value, '$.value')
        WHEN 'array' THEN json_extract(a.value, '$.value')
        ELSE json_array(json_extract(a.value, '$.value')) END) AS e
    WHERE a.type = 'object'
    UNION ALL SELECT DISTINCT 'C', a.key, NULL, NULL FROM json_each(CASE WHEN json_valid(new.custom_attributes)
        THEN CASE json_type(new.custom_attributes) WHEN 'object'
        THEN new.custom_attributes END END) AS a,
    json_each(CASE json_type(a.value, '$.value')
        WHEN 'array' THEN json_extract(a.value, '$.value')
        ELSE json_array(json_extract(a.value, '$.value')) END) AS e
    WHERE a.type = 'object') AS v;
    END;
CREATE TRIGGER case_value_tallies_au AFTER UPDATE OF org_id, project_id, type_id, status, status_name, priority_rank, archived_at, attributes, custom_attributes ON cases
        WHEN old.org_id IS NOT new.org_id OR old.project_id IS NOT new.project_id OR old.type_id IS NOT new.type_id OR old.status IS NOT new.status OR old.status_name IS NOT new.status_name OR old.priority_rank IS NOT new.priority_rank OR (old.archived_at IS NULL) <> (new.archived_at IS NULL) OR old.attributes IS NOT new.attributes OR old.custom_attributes IS NOT new.custom_attributes BEGIN
        INSERT INTO case_value_deltas (org_id, project_id, type_id, status, status_name, priority_rank, archived_at, source, key, value, num, n) SELECT old.org_id, old.project_id, old.type_id, old.status, old.status_name, old.priority_rank, CASE WHEN old.archived_at IS NULL THEN NULL ELSE 1 END, v.source, v.key, v.value, v.num, -1 FROM (
    SELECT DISTINCT 'a' AS source, a.key AS key, coalesce(lower(e.value), '') AS value,
        NULL AS num FROM json_each(CASE WHEN json_valid(old.attributes)
        THEN CASE json_type(old.attributes) WHEN 'object' THEN old.attributes END END) AS a,
    json_each(CASE a.type WHEN 'array' THEN a.value ELSE json_array(a.value) END) AS e
    UNION ALL SELECT DISTINCT 'A', a.key, NULL, NULL FROM json_each(CASE WHEN json_valid(old.attributes)
        THEN CASE json_type(old.attributes) WHEN 'object' THEN old.attributes END END) AS a,
    json_each(CASE a.type WHEN 'array' THEN a.value ELSE json_array(a.value) END) AS e
    UNION ALL SELECT DISTINCT 'c', a.key,
        CASE WHEN e.type IN ('integer', 'real') THEN '' ELSE coalesce(lower(e.value), '') END,
        CASE WHEN e.type IN ('integer', 'real') THEN e.value END FROM json_each(CASE WHEN json_valid(old.custom_attributes)
        THEN CASE json_type(old.custom_attributes) WHEN 'object'
        THEN old.custom_attributes END END) AS a,
    json_each(CASE json_type(a.value, '$.value')
        WHEN 'array' THEN json_extract(a.value, '$.value')
        ELSE json_array(json_extract(a.value, '$.value')) END) AS e
    WHERE a.type = 'object'
    UNION ALL SELECT DISTINCT 'C', a.key, NULL, NULL FROM json_each(CASE WHEN json_valid(old.custom_attributes)
        THEN CASE json_type(old.custom_attributes) WHEN 'object'
        THEN old.custom_attributes END END) AS a,
    json_each(CASE json_type(a.value, '$.value')
        WHEN 'array' THEN json_extract(a.value, '$.value')
        ELSE json_array(json_extract(a.value, '$.value')) END) AS e
    WHERE a.type = 'object') AS v;
        INSERT INTO case_value_deltas (org_id, project_id, type_id, status, status_name, priority_rank, archived_at, source, key, value, num, n) SELECT new.org_id, new.project_id, new.type_id, new.status, new.status_name, new.priority_rank, CASE WHEN new.archived_at IS NULL THEN NULL ELSE 1 END, v.source, v.key, v.value, v.num, 1 FROM (
    SELECT DISTINCT 'a' AS source, a.key AS key, coalesce(lower(e.value), '') AS value,
        NULL AS num FROM json_each(CASE WHEN json_valid(new.attributes)
        THEN CASE json_type(new.attributes) WHEN 'object' THEN new.attributes END END) AS a,
    json_each(CASE a.type WHEN 'array' THEN a.value ELSE json_array(a.value) END) AS e
    UNION ALL SELECT DISTINCT 'A', a.key, NULL, NULL FROM json_each(CASE WHEN json_valid(new.attributes)
        THEN CASE json_type(new.attributes) WHEN 'object' THEN new.attributes END END) AS a,
    json_each(CASE a.type WHEN 'array' THEN a.value ELSE json_array(a.value) END) AS e
    UNION ALL SELECT DISTINCT 'c', a.key,
        CASE WHEN e.type IN ('integer', 'real') THEN '' ELSE coalesce(lower(e.value), '') END,
        CASE WHEN e.type IN ('integer', 'real') THEN e.value END FROM json_each(CASE WHEN json_valid(new.custom_attributes)
        THEN CASE json_type(new.custom_attributes) WHEN 'object'
        THEN new.custom_attributes END END) AS a,
    json_each(CASE json_type(a.value, '$.value')
        WHEN 'array' THEN json_extract(a.value, '$.value')
        ELSE json_array(json_extract(a.value, '$.value')) END) AS e
    WHERE a.type = 'object'
    UNION ALL SELECT DISTINCT 'C', a.key, NULL, NULL FROM json_each(CASE WHEN json_valid(new.custom_attributes)
        THEN CASE json_type(new.custom_attributes) WHEN 'object'
        THEN new.custom_attributes END END) AS a,
    json_each(CASE json_type(a.value, '$.value')
        WHEN 'array' THEN json_extract(a.value, '$.value')
        ELSE json_array(json_extract(a.value, '$.value')) END) AS e
    WHERE a.type = 'object') AS v;
    END;
CREATE TRIGGER case_value_tallies_ad AFTER DELETE ON cases BEGIN
        INSERT INTO case_value_deltas (org_id, project_id, type_id, status, status_name, priority_rank, archived_at, source, key, value, num, n) SELECT old.org_id, old.project_id, old.type_id, old.status, old.status_name, old.priority_rank, CASE WHEN old.archived_at IS NULL THEN NULL ELSE 1 END, v.source, v.key, v.value, v.num, -1 FROM (
    SELECT DISTINCT 'a' AS source, a.key AS key, coalesce(lower(e.value), '') AS value,
        NULL AS num FROM json_each(CASE WHEN json_valid(old.attributes)
        THEN CASE json_type(old.attributes) WHEN 'object' THEN old.attributes END END) AS a,
    json_each(CASE a.type WHEN 'array' THEN a.value ELSE json_array(a.value) END) AS e
    UNION ALL SELECT DISTINCT 'A', a.key, NULL, NULL FROM json_each(CASE WHEN json_valid(old.attributes)
        THEN CASE json_type(old.attributes) WHEN 'object' THEN old.attributes END END) AS a,
    json_each(CASE a.type WHEN 'array' THEN a.value ELSE json_array(a.value) END) AS e
    UNION ALL SELECT DISTINCT 'c', a.key,
        CASE WHEN e.type IN ('integer', 'real') THEN '' ELSE coalesce(lower(e.value), '') END,
        CASE WHEN e.type IN ('integer', 'real') THEN e.value END FROM json_each(CASE WHEN json_valid(old.custom_attributes)
        THEN CASE json_type(old.custom_attributes) WHEN 'object'
        THEN old.custom_attributes END END) AS a,
    json_each(CASE json_type(a.value, '$.value')
        WHEN 'array' THEN json_extract(a.value, '$.value')
        ELSE json_array(json_extract(a.value, '$.value')) END) AS e
    WHERE a.type = 'object'
    UNION ALL SELECT DISTINCT 'C', a.key, NULL, NULL FROM json_each(CASE WHEN json_valid(old.custom_attributes)
        THEN CASE json_type(old.custom_attributes) WHEN 'object'
        THEN old.custom_attributes END END) AS a,
    json_each(CASE json_type(a.value, '$.value')
        WHEN 'array' THEN json_extract(a.value, '$.value')
        ELSE json_array(json_extract(a.value, '$.value')) END) AS e
    WHERE a.type = 'object') AS v;
    END;
INSERT INTO alembic_version (version_num) VALUES ('0013');
