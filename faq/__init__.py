"""The FAQ domain: articles about the city's apps, and understanding residents' free text."""
