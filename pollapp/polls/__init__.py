"""The polls app, after Django's tutorial: questions, choices, votes."""
