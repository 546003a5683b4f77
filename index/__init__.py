"""Reading article files and building the searchable index (knows nothing of questions)."""
