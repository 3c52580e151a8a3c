"""pollapp: the Django polls app that Chaos Control's stack serves and the faults hurt."""
