"""Model export (TFLite / LiteRT) and its verification."""
