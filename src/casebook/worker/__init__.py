"""The delivery worker: reads the outbox of case changes and acts on each (see
``domain/events.py``). Every ``casebook serve`` process runs one; a lease in the
database lets one process of the deployment at a time do the work."""
