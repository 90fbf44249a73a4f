"""Pipeline inspection: what changed over a period, forecast categories, risk flags with their
reasons, and figures per rep — plain logic over the store (no Textual), shown by the inspection
screen and printed by ``smvue-tui inspect``.

One layer above the store, beside the sync: it reads the store's mirrors (Opportunity,
OpportunityHistory, contact roles, activities) and its own change log (``store/changelog.py``).
"""
