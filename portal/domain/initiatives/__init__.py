"""Residents' initiatives as Bureau Wijkzaken supports them (issue 10): the participation
ladder (``ladder``); the wijk budget and dossiers follow."""
