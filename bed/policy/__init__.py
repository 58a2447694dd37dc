"""bed's policies as pure functions over plain data: what a verdict is, what a flake is, when a
test is quarantined, when a run is provably dead, what a down dependency means, the budgets.

Nothing here does I/O or reads a clock; each module has a table of unit tests, and a mutation
tool (``make mutate``) checks that those tests notice every small change to the rules.
"""
