"""Part of the signal page (templates/backoffice/signal/_links.html): related signals and
duplicates (``domain.dossiers.links``)."""
