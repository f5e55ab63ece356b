"""What the portal holds about residents, and for how long (AVG, Archiefwet): the retention
job, subject access (finding, exporting and erasing what is held about an address) and the
anonymisation both share."""
