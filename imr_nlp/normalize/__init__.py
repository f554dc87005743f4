"""Pure normalising functions (no spaCy): text cleaning, dates, values and drug names."""
