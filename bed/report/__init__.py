"""Results and their writers: mvp_report.json, PROJECT_READY.md, JUnit, CAUSE lines, CI output."""
