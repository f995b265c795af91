"""What the staff admin (web) and the client portal share: form rendering helpers, posted
value parsing, file downloads."""
