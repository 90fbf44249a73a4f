"""A local Salesforce org speaking the real wire protocol over a seeded, generated data set.

It is what ``smvue-tui --demo`` connects a new user to, the peer of every integration test, and the
workload of every benchmark. One process (or one ``DemoOrg``) is one org.
"""
