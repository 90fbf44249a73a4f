"""Salesforce's Pub/Sub API protocol: the published ``pubsub_api.proto`` and its generated stubs.

A package of its own because both sides speak it: the app's client (``smvue_tui.salesforce``)
and the demo org's server (``smvue_demo_org``), which imports nothing of the app. See README.md
here for where the proto comes from, its licence, and how the stubs are regenerated.
"""
