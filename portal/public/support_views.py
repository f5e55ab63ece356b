"""Part of the status page (templates/public/status/_support.html): support granted to an
initiative from its wijk budget."""
