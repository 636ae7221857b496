"""Writing: the change plan, the prepare-and-embed pipeline and its caches, Ray, the group writer, watch."""
