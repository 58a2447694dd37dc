"""One run as named stages: prepare, images, stack, tiers, teardown, judge, report."""
