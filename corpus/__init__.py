"""Articles about municipal digital transformation and the loaders that read them."""
