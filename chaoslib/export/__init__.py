"""Chaos Control's scenarios in other tools' formats (Chaos Toolkit's experiments: `chaosctl export`)."""
