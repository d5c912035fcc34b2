"""Developer tools that run the real Terraform against the synthesized stacks (offline-capable)."""
