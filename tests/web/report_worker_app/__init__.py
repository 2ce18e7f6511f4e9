"""A test app for tests/web/test_report_schedules.py: registers the report ``schedule-test`` (a real definition
on the real engine and template, whose provider fails while the file ``$LW_TEST_REPORT_FAIL`` exists), so worker
processes started by the tests render it as they would a built-in one."""
