"""Test helpers shared across the test tree: local moto_server and a fake GitHub API."""
