"""Sync: plans what to fetch from Salesforce, pages it into the store, checkpoints every page."""
