"""Places: the municipality gazetteer and the prefectures and municipalities named in text, subject or mention."""
