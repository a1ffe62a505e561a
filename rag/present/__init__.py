"""Showing things to people: terminal safety (`terminal.safe`, shared with the chat), plain-text
rendering of answers, hits and reports (`render`), and each error's next step in words (`fixes`)."""
