"""The MCP server: the search engine's read answers as tools and resources for AI assistants (HTTP at /mcp, stdio)."""
