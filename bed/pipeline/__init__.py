"""One run as data flowing through named stages (``stages/``), composed by ``workflow.run``."""
