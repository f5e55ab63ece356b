"""Coordination of loose ends into one approach: links between signals (related, duplicate)
in ``links``, dossiers that group signals in ``dossiers``."""
