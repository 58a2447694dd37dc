"""Results and their writers: mvp_report.json, PROJECT_READY.md, report.html, JUnit, CAUSE lines, CI output,
and the comparison's compare.json and compare.md."""
