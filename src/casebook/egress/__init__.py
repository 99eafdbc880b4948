"""Outbound HTTP: casebook's clients of external systems (Jira, ServiceNow), and the guard
every outbound URL passes (``guard.check_url``).

The domain states what it needs of an external system as a Protocol
(``domain/integrations.py``: ``JiraConnector``, ``ServiceNowConnector``) and never does
network I/O itself; the HTTP layer hands it the clients of this package.
"""
