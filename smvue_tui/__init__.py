"""smvue-tui: a terminal pipeline view for sales managers, synced read-only from Salesforce."""

__version__ = "0.1.0"
