"""Caps on what one request may store. Documented in docs/security.md and the OpenAPI schema."""

from __future__ import annotations

MAX_TITLE_CHARS = 500
MAX_DESCRIPTION_CHARS = 50_000
MAX_PROJECT_NAME_CHARS = 200
MAX_USER_NAME_CHARS = 55
MAX_USER_TITLE_CHARS = 200
MAX_EMAIL_CHARS = 254
MAX_CUSTOM_ATTRIBUTES = 100
MAX_ATTRIBUTE_KEYS = 100
"""Keys of a case's ``attributes`` map; each holds at most ``MAX_ATTRIBUTE_VALUES`` strings."""
MAX_ATTRIBUTE_VALUES = 100
MAX_ATTRIBUTE_KEY_CHARS = 64
MAX_ATTRIBUTE_VALUE_CHARS = 256
MAX_PAGE_SIZE = 100
MAX_USERS_PAGE_SIZE = 1000
MAX_OFFSET = 10_000_000
"""Offsets are clamped to this, so the number sent to the database stays bounded."""
MAX_COMMENT_CHARS = 50_000
MAX_WATCHERS = 100
"""Watchers of one case. Automatic watching (creator, assignee, commenters, mentions)
stops silently at the cap; ``WatchCase`` past it is refused."""
MAX_LINKS = 200
"""Links with one case at either end."""
MAX_INSIGHTS = 100
MAX_INSIGHT_REF_CHARS = 2_000
MAX_INSIGHT_ID_CHARS = 256
MAX_TIMELINE_PAGE_SIZE = 100
MAX_BULK_CASES = 100
"""Case ids in one ``BulkUpdateCases`` request (repeats count)."""
MAX_CASE_TYPES = 100
"""An organisation's own case types (the built-in ones aside)."""
MAX_CASE_TYPE_NAME_CHARS = 100
MAX_CASE_TYPE_DESCRIPTION_CHARS = 1_000
MAX_STATUSES = 20
"""Statuses of one case type."""
MAX_STATUS_NAME_CHARS = 50
MAX_CUSTOM_KEY_CHARS = 64
MAX_DISPLAY_NAME_CHARS = 200
MAX_SELECT_OPTIONS = 100
MAX_CUSTOM_TEXT_CHARS = 1_000
"""A TEXT, URL or SELECT value, and a SELECT option."""
MAX_CUSTOM_VALUES = 50
"""Values of one ``is_multi`` custom attribute on one case."""
MAX_SETTINGS_QUERY_CHARS = 2_000
"""A search query held in a project's settings (escalation queries)."""
MAX_INACTIVE_SECONDS = 10 * 365 * 86_400
"""``auto_close_inactive_cases.max_inactive_time_in_secs``: ten years at most."""
MAX_VIEW_NAME_CHARS = 200
MAX_VIEWS_PER_PROJECT = 200
MAX_WEBHOOK_URL_CHARS = 2_000
MAX_WEBHOOK_PAYLOAD_CHARS = 20_000
MAX_RULE_DEPTH = 3
"""Automation rules act on changes up to this depth: a rule's change may set off another
rule, but no chain goes further (so rules cannot trigger themselves in a loop)."""
MAX_COUNT_FIELDS = 10
"""Fields of one CountCases ``group_bys`` (each counted on its own)."""
MAX_AGGREGATE_FIELDS = 3
"""Fields of one AggregateCases ``group_by.groups``: a case counts under each combination
of its values, so each field multiplies the rows a count reads."""
DEFAULT_FACET_VALUES = 100
MAX_FACET_VALUES = 1_000
"""Values of one field that CountCases answers (its ``limit``), and groups of durations."""
MAX_AGGREGATE_GROUPS = 1_000
"""Groups AggregateCases answers (its ``group_by.limit``, as the spec's maximum)."""
MAX_REPORT_CASES = 100_000
"""Cases the durations report reads the history of, in one request."""
MAX_NOTIFICATION_RULES_PER_PROJECT = 100
MAX_AUTOMATION_RULES_PER_PROJECT = 100
MAX_RULE_NAME_CHARS = 200
MAX_RULE_TRIGGERS = 20
"""Triggers of one notification rule."""
MAX_RULE_RECIPIENTS = 50
"""Recipients of one notification rule."""
MAX_RULE_VALUE_CHARS = 256
"""A member of a trigger's, recipient's or action's ``data`` (a name, an email, an id)."""
MAX_DESTINATION_URL_CHARS = 2_000
"""A Slack or Microsoft Teams incoming-webhook URL."""
MAX_MAINTENANCE_WINDOWS = 1_000
"""Maintenance windows of one organisation, past ones included."""
MAX_WINDOW_NAME_CHARS = 200
