"""X12 5010 for the clearinghouse: a tolerant reader, an envelope writer, and the transactions we speak."""
