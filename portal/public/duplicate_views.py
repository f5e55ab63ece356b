"""Part of the status page (templates/public/status/_duplicate.html): a signal declined as a
duplicate points to the other signal's public page."""
