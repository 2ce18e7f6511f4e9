"""A test app for tests/web/test_notify_worker.py: one slow job that records each run (``$LW_TEST_JOB_LOG``)."""
