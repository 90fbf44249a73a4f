"""Everything that speaks to Salesforce: login, the read-only REST client, the SOAP codecs.

Nothing else in the project imports httpx to talk to Salesforce.
"""
