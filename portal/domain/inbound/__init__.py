"""Replies by email: mail that comes in on a signal's reply address (``flask --app portal mail
receive``) is read (``parse``), stored whole and put on the signal's timeline, or set aside for
an admin (``receive``)."""
