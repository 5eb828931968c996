"""Pure functions over plain values: cleaning names, emails and phones, reading dates, money."""
