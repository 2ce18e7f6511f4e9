"""The application's outbox: reminders and notices through the alert receivers."""
