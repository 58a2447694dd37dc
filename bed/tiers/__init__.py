"""A tier's pytest session in a runner: which tiers there are (catalog), what a session is told
(command), where it runs (sessions: a fresh runner or a warm one), how it is run and followed
(run), how parts of one tier join (parts), and how a project's own suite gets into the runner (suite).
"""
