"""Configuration made once at the edge: `settings` (defaults < config file < bot profile < environment
< flags, every default defined once), `bots` (a chatbot is a profile, not a program) and `secret`
(an API key that never shows)."""
