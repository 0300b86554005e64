"""The complaint domain: categories, routing to agencies, status lifecycle, places and deadlines."""
