"""The stages of one run, one module each; each takes frozen inputs and returns a frozen output:

    prepare  Inputs                          -> Prepared      router config, key, flake book, suite files
    images   Inputs, Prepared                -> Built         the engine, every image, its cores
    stack    Inputs, Prepared, Built         -> Running       the network and the services, started
    tiers    ..., Running                    -> TierOutcomes  every tier run (and re-run once), services ready
    judge    Config, book, TierOutcomes      -> Verdict       checks, census, the flake book after
    report   Inputs, Facts, Verdict          -> Written       JUnit, durations, book, JSON, Markdown

``bed.pipeline.workflow`` composes them.
"""
